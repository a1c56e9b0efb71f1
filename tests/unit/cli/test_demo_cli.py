"""`omp sim` and `omp demo`: what they refuse and what they write, without starting servers."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from omp.cli import app
from omp.model import load_model
from omp.runtime.connectors import check_options

runner = CliRunner()


def test_sim_writes_a_model_that_binds_a_bigger_plant(tmp_path: Path) -> None:
    model = tmp_path / "plant.yaml"
    result = runner.invoke(
        app, ["sim", "--machines", "60", "--write-model", str(model), "--model-only"]
    )
    assert result.exit_code == 0, result.output
    loaded = load_model(model, check_options=check_options)
    equipment = [
        e
        for site in loaded.sites.values()
        for area in site.areas.values()
        for line in area.lines.values()
        for cell in line.cells.values()
        for e in cell.equipment.values()
    ]
    assert len(equipment) == 78  # 60 rounded up to whole rounds of 26


def test_sim_model_only_needs_a_file() -> None:
    result = runner.invoke(app, ["sim", "--model-only"])
    assert result.exit_code == 1
    assert "--model-only needs --write-model" in result.output


def test_demo_refuses_a_directory_it_did_not_make(tmp_path: Path) -> None:
    precious = tmp_path / "plant-data"
    precious.mkdir()
    (precious / "historian.duckdb").write_text("not the demo's")
    result = runner.invoke(app, ["demo", "--data-dir", str(precious), "--api-port", "0"])
    assert result.exit_code == 1
    assert "was not made by omp demo" in result.output
    assert (precious / "historian.duckdb").read_text() == "not the demo's"


def test_demo_rejects_a_bad_duration() -> None:
    result = runner.invoke(app, ["demo", "--backfill", "a week"])
    assert result.exit_code == 1
    assert "--backfill 'a week'" in result.output

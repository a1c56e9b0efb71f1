"""The command surface: messages and exit codes for the cases that need no database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from omp.cli import app

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
runner = CliRunner()


def test_check_prints_a_summary_of_a_valid_model() -> None:
    result = runner.invoke(app, ["check", str(EXAMPLES / "factory.yaml")])
    assert result.exit_code == 0, result.output
    assert "equipment" in result.stdout
    assert "12" in result.stdout
    assert "130" in result.stdout  # signals
    assert "model version" in result.stdout


def test_check_prints_every_problem_one_per_line() -> None:
    broken = EXAMPLES / "broken.yaml"
    result = runner.invoke(app, ["check", str(broken)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) >= 10
    for line in lines:
        file, number, path, message = line.split(":", 3)
        assert file == str(broken)
        assert int(number) > 0
        assert path.strip()
        assert message.strip()
    assert "problems in" in result.stderr
    assert "Traceback" not in result.output


def test_check_names_a_missing_file() -> None:
    result = runner.invoke(app, ["check", "does-not-exist.yaml"])
    assert result.exit_code == 1
    assert "does-not-exist.yaml" in result.stderr
    assert "Traceback" not in result.output


def test_query_on_an_empty_data_directory_says_nothing_is_stored(tmp_path: Path) -> None:
    result = runner.invoke(app, ["query", "acme/**", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert str(tmp_path / "historian.duckdb") in result.stderr
    assert not (tmp_path / "historian.duckdb").exists()  # reading never creates a store


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-01-01T00:00:00"], "no UTC offset"),
        (["--from", "yesterday"], "not RFC 3339"),
        (["--every", "1 fortnight"], "duration"),
        (["--agg", "avg"], "--agg needs --every"),
    ],
)
def test_query_rejects_bad_options_with_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "historian.duckdb").write_bytes(b"")  # never opened: options fail first
    result = runner.invoke(
        app,
        ["query", "acme/**", "--data-dir", str(tmp_path), "--api", "http://127.0.0.1:9", *args],
    )
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_query_formats_are_table_csv_parquet() -> None:
    result = runner.invoke(app, ["query", "a", "--format", "arrow"])
    assert result.exit_code == 2
    assert "arrow" in result.stderr


def test_query_through_an_api_that_is_not_there_names_the_url(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["query", "acme/**", "--data-dir", str(tmp_path), "--api", "http://127.0.0.1:9"]
    )
    assert result.exit_code == 1
    assert "http://127.0.0.1:9" in result.stderr


def test_import_refuses_a_file_with_missing_columns_before_opening_anything(
    tmp_path: Path,
) -> None:
    data = tmp_path / "h.csv"
    data.write_text("path,ts\na,b\n")
    result = runner.invoke(
        app,
        [
            "import",
            str(data),
            "--data-dir",
            str(tmp_path / "data"),
            "--model",
            str(EXAMPLES / "factory.yaml"),
        ],
    )
    assert result.exit_code == 1
    assert f"{data}: missing column 'value'" in result.stderr
    assert not (tmp_path / "data").exists()


def test_import_without_a_model_says_how_to_give_one(tmp_path: Path) -> None:
    data = tmp_path / "h.csv"
    data.write_text("path,ts,value\n")
    result = runner.invoke(app, ["import", str(data), "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "--model" in result.stderr


def test_bad_settings_file_is_named(tmp_path: Path) -> None:
    config = tmp_path / "omp.toml"
    config.write_text("api_port = 'x'\n")
    result = runner.invoke(app, ["query", "a", "--config", str(config)])
    assert result.exit_code == 1
    assert str(config) in result.stderr
    assert "api_port" in result.stderr


def test_signals_lists_matches_with_kind_and_unit() -> None:
    result = runner.invoke(
        app, ["signals", "acme/**/mill_01/spindle_temp", "--model", str(EXAMPLES / "factory.yaml")]
    )
    assert result.exit_code == 0, result.output
    assert "spindle_temp" in result.stdout
    assert "measurement" in result.stdout
    assert "Cel" in result.stdout


def test_signals_names_a_pattern_matching_nothing() -> None:
    result = runner.invoke(app, ["signals", "x/**", "--model", str(EXAMPLES / "factory.yaml")])
    assert result.exit_code == 1
    assert "'x/**'" in result.stderr


def test_a_query_bound_out_of_range_is_one_line_naming_the_argument(tmp_path: Path) -> None:
    # --api points nowhere: the bound is refused before anything is contacted.
    result = runner.invoke(
        app,
        ["query", "a/**", "--from", "-9999999999999d", "--api", "http://127.0.0.1:9",
         "--data-dir", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "--from '-9999999999999d' is before 1970" in result.stderr
    assert "Traceback" not in result.output


def test_version_prints_the_package_version() -> None:
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"omp {version('omp')}\n"


def test_bootstrap_asks_the_cli_for_its_version() -> None:
    # scripts/bootstrap reports `omp --version`; the option it calls must exist.
    script = (EXAMPLES.parent / "scripts" / "bootstrap").read_text()
    assert "omp --version" in script
    assert runner.invoke(app, ["--version"]).exit_code == 0

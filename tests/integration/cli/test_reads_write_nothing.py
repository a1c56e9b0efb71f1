"""``omp query`` / ``omp export`` on a stopped instance never write to the historian."""

from __future__ import annotations

from pathlib import Path

import pytest

from omp.runtime.historian_factory import HistorianPermissionError, check_access, open_backend
from omp.runtime.settings import Settings
from tests.integration.cli.conftest import EXAMPLE, RANGE, TEMP, omp

NEW = "acme/munich/machining/line_1/milling/mill_01/new_sig"


def _catalog(data: Path) -> dict[str, int]:
    backend = open_backend(Settings(data_dir=data))
    try:
        return dict(backend.signal_ids())
    finally:
        backend.close()


def _model_with_one_more_signal(tmp_path: Path) -> Path:
    text = EXAMPLE.read_text()
    anchor = "      spindle_temp:"
    assert anchor in text
    edited = text.replace(anchor, "      new_sig: {unit: Cel}\n" + anchor, 1)
    path = tmp_path / "factory_v2.yaml"
    path.write_text(edited)
    return path


def test_a_query_with_another_model_adds_nothing_to_the_catalog(
    tmp_path: Path, history: Path
) -> None:
    data = tmp_path / "data"
    imported = omp("import", str(history), "--data-dir", str(data), "--model", str(EXAMPLE))
    assert imported.exit_code == 3, imported.output
    before = _catalog(data)
    model = _model_with_one_more_signal(tmp_path)
    for args in (["query", "acme/**/mill_01/*", *RANGE, "--format", "csv"],
                 ["export", TEMP, "--from", RANGE[1], "-o", str(tmp_path / "e.csv"),
                  "--format", "csv"]):  # fmt: skip
        result = omp(*args, "--data-dir", str(data), "--model", str(model))
        assert result.exit_code == 0, result.output
        assert "4 signals of the model were never stored" in result.stderr  # one per mill
        assert NEW in result.stderr
    assert _catalog(data) == before
    assert NEW not in before


def test_a_signal_the_catalog_does_not_know_has_no_data(tmp_path: Path, history: Path) -> None:
    data = tmp_path / "data"
    omp("import", str(history), "--data-dir", str(data), "--model", str(EXAMPLE))
    model = _model_with_one_more_signal(tmp_path)
    result = omp("query", NEW, *RANGE, "--format", "csv", "--data-dir", str(data),
                 "--model", str(model))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().count("\n") == 0  # the header, no rows


def test_a_historian_file_without_permission_is_not_called_locked(tmp_path: Path) -> None:
    store = tmp_path / "historian.duckdb"
    store.write_bytes(b"")
    with pytest.raises(HistorianPermissionError) as caught:
        check_access(store, access=lambda path, mode: path != store)
    assert str(caught.value) == (
        f"cannot open historian file {store}: permission denied "
        "(this user needs read and write access to it)"
    )
    with pytest.raises(HistorianPermissionError, match="on its directory"):
        check_access(store, access=lambda path, mode: path != tmp_path)
    check_access(store, access=lambda path, mode: True)

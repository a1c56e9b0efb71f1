"""Output options never destroy the input or the historian, and never leave half a file."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.integration.cli.conftest import EXAMPLE, RANGE, TEMP, omp


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _import(data: Path, file: Path, *extra: str) -> tuple[int, str]:
    result = omp("import", str(file), "--data-dir", str(data), "--model", str(EXAMPLE), *extra)
    return result.exit_code, result.stderr


def test_rejects_onto_the_input_file_is_refused_and_the_input_kept(
    tmp_path: Path, history: Path
) -> None:
    before = _digest(history)
    code, text = _import(tmp_path / "data", history, "--rejects", str(history))
    assert code == 1
    assert "--rejects" in text
    assert "the file being imported" in text
    assert _digest(history) == before
    assert not (tmp_path / "data" / "historian.duckdb").exists()  # nothing was opened


def test_rejects_onto_the_input_by_another_spelling_is_refused(
    tmp_path: Path, history: Path
) -> None:
    before = _digest(history)
    other = history.parent / "." / history.name
    code, text = _import(tmp_path / "data", history, "--rejects", str(other))
    assert code == 1
    assert "the file being imported" in text
    assert _digest(history) == before


def test_rejects_onto_the_historian_is_refused(tmp_path: Path, history: Path) -> None:
    data = tmp_path / "data"
    _import(data, history)
    store = data / "historian.duckdb"
    before = _digest(store)
    code, text = _import(data, history, "--rejects", str(store))
    assert code == 1
    assert "the historian" in text
    assert _digest(store) == before


def test_export_onto_the_historian_is_refused(tmp_path: Path, history: Path) -> None:
    data = tmp_path / "data"
    _import(data, history)
    store = data / "historian.duckdb"
    before = _digest(store)
    for command in (["export", TEMP, "--from", RANGE[1]], ["query", TEMP, *RANGE]):
        result = omp(*command, "-o", str(store), "--format", "csv", "--data-dir", str(data))
        assert result.exit_code == 1, result.output
        assert "the historian" in result.stderr
        assert _digest(store) == before
    result = omp("query", TEMP, *RANGE, "--format", "csv", "--data-dir", str(data))
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 91


def test_export_replaces_an_existing_file_only_when_complete(tmp_path: Path, history: Path) -> None:
    data = tmp_path / "data"
    _import(data, history)
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    result = omp("export", TEMP, "--from", RANGE[1], "-o", str(target), "--format", "csv",
                 "--data-dir", str(data))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(target.read_text().splitlines()) == 91
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []

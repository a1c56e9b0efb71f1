"""DuckDB only: a file that cannot be opened gives one clear error naming it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from omp.core.errors import HistorianUnavailableError
from omp.historian.backends.duckdb import DuckDBBackend

HOLDER = textwrap.dedent(
    """
    import sys
    from omp.historian.backends.duckdb import DuckDBBackend
    backend = DuckDBBackend.open(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.read()
    backend.close()
    """
)


def test_missing_directory_is_named(tmp_path: Path) -> None:
    target = tmp_path / "nowhere" / "historian.duckdb"
    with pytest.raises(HistorianUnavailableError, match=r"nowhere.*does not exist"):
        DuckDBBackend.open(target)


def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    target = tmp_path / "notes.duckdb"
    target.write_text("shopping list\n" * 1000)
    with pytest.raises(HistorianUnavailableError, match=str(target)):
        DuckDBBackend.open(target)
    assert target.read_text().startswith("shopping list")  # left untouched


def test_a_file_locked_by_another_process_is_named(tmp_path: Path) -> None:
    target = tmp_path / "historian.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(HistorianUnavailableError, match=r"historian\.duckdb.*locked"):
            DuckDBBackend.open(target)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
        if holder.stdout is not None:
            holder.stdout.close()
    DuckDBBackend.open(target).close()  # free again once the other process is gone


def test_a_directory_gets_the_default_file(tmp_path: Path) -> None:
    backend = DuckDBBackend.open(tmp_path)
    assert backend.describe() == f"duckdb:{tmp_path / 'historian.duckdb'}"
    backend.close()
    assert (tmp_path / "historian.duckdb").is_file()


def test_a_second_writer_in_the_same_process_is_refused(tmp_path: Path) -> None:
    first = DuckDBBackend.open(tmp_path / "historian.duckdb")
    with pytest.raises(HistorianUnavailableError, match="already open in this process"):
        DuckDBBackend.open(tmp_path)
    first.close()
    DuckDBBackend.open(tmp_path).close()

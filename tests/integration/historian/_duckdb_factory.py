"""Backend factory for the conformance suite: DuckDB, one file under the test's tmp_path."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from omp.historian.backend import HistorianBackend
from omp.historian.backends.duckdb import DuckDBBackend


@contextmanager
def make_backend(tmp_path: Path) -> Iterator[Callable[[], HistorianBackend]]:
    """Yield a callable that opens a backend on one file; pytest removes ``tmp_path``."""
    path = tmp_path / "historian.duckdb"

    def open_backend() -> HistorianBackend:
        return DuckDBBackend.open(path)

    yield open_backend

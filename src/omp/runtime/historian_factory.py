"""Opening the historian the settings ask for: the only place naming concrete backends."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omp.core.errors import HistorianUnavailableError
from omp.core.time import Clock, system_clock, to_rfc3339
from omp.historian.backend import HistorianBackend
from omp.historian.service import Historian, HistorianStats
from omp.runtime.settings import HistorianKind, Settings


class HistorianPermissionError(HistorianUnavailableError):
    """This user may not open the historian file or its directory (not a lock)."""


def check_access(path: Path, *, access: Callable[[Path, int], bool] = os.access) -> None:
    """``HistorianPermissionError`` naming the file when DuckDB could not open it read-write.

    DuckDB reports a permission problem like a lock; checking first gives the
    real reason. The file needs read and write, its directory write (for the WAL).
    """
    if path.exists() and not access(path, os.R_OK | os.W_OK):
        raise HistorianPermissionError(
            f"cannot open historian file {path}: permission denied "
            "(this user needs read and write access to it)"
        )
    if path.parent.is_dir() and not access(path.parent, os.W_OK | os.X_OK):
        raise HistorianPermissionError(
            f"cannot open historian file {path}: permission denied on its directory "
            f"{path.parent} (this user needs write access there for the write-ahead log)"
        )


def open_backend(settings: Settings) -> HistorianBackend:
    """The storage engine of ``settings``, opened (schema created or migrated).

    Raises ``HistorianUnavailableError`` naming the file or URL when it cannot
    be opened: a locked or foreign DuckDB file, an unreachable PostgreSQL.
    """
    if settings.historian_kind is HistorianKind.POSTGRES:
        # Imported here so the embedded default never loads the PostgreSQL driver.
        from omp.historian.backends.postgres import PostgresBackend

        url = settings.historian_url or ""
        return PostgresBackend.open(url, schema=settings.postgres_schema)
    from omp.historian.backends.duckdb import DuckDBBackend

    path = settings.duckdb_path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HistorianUnavailableError(
            f"cannot create the data directory {path.parent}: {exc.strerror}"
        ) from None
    check_access(path)
    return DuckDBBackend.open(path)


def open_historian(settings: Settings, *, clock: Clock = system_clock) -> Historian:
    """The historian service ``settings`` ask for, its backend opened, its writer not started.

    Raises ``HistorianUnavailableError`` naming the file or URL (see ``open_backend``).
    """
    return Historian(
        open_backend(settings),
        clock=clock,
        flush_interval=settings.flush_interval,
        queue_points=settings.queue_size,
        retention=settings.retention.to_policy(),
    )


def historian_counters(stats: HistorianStats) -> tuple[dict[str, Any], list[str]]:
    """The service's counters for ``/health``, and the problems worth a degraded status."""
    counters: dict[str, Any] = {
        "points_written": stats.points_written,
        "text_written": stats.text_written,
        "events_written": stats.events_written,
        "duplicates": stats.duplicates,
        "flushes": stats.flushes,
        "failed_writes": stats.failed_writes,
        "queued": stats.queued,
        "in_flight": stats.in_flight,
        "last_flush_at": None if stats.last_flush_at is None else to_rfc3339(stats.last_flush_at),
        "last_error": stats.last_error,
    }
    problems: list[str] = []
    if stats.last_error is not None and (
        stats.last_flush_at is None
        or (stats.last_error_at is not None and stats.last_error_at >= stats.last_flush_at)
    ):
        problems.append(f"historian writes are failing: {stats.last_error}")
    return counters, problems

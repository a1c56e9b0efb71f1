from __future__ import annotations

from pathlib import Path

import pytest

from omp.core.errors import HistorianUnavailableError
from omp.historian.service import HistorianStats
from omp.runtime.historian_factory import historian_counters, open_historian
from omp.runtime.settings import Settings


def _stats(**changes: object) -> HistorianStats:
    fields: dict[str, object] = {
        "points_written": 10,
        "text_written": 0,
        "events_written": 0,
        "duplicates": 0,
        "flushes": 1,
        "failed_writes": 0,
        "queued": 0,
        "in_flight": 0,
        "last_flush_at": 2_000_000,
        "last_error": None,
        "last_error_at": None,
    }
    fields.update(changes)
    return HistorianStats(**fields)  # type: ignore[arg-type]  # fields are the dataclass's own


def test_a_healthy_writer_has_no_problems() -> None:
    counters, problems = historian_counters(_stats())
    assert problems == []
    assert counters["last_flush_at"] == "1970-01-01T00:00:02Z"


def test_an_error_after_the_last_flush_is_a_problem() -> None:
    _, problems = historian_counters(_stats(last_error="disk full", last_error_at=3_000_000))
    assert problems == ["historian writes are failing: disk full"]


def test_an_error_the_writer_recovered_from_is_history() -> None:
    _, problems = historian_counters(_stats(last_error="disk full", last_error_at=1_000_000))
    assert problems == []


def test_a_duckdb_url_puts_the_file_where_it_says(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "h.duckdb"
    historian = open_historian(
        Settings(data_dir=tmp_path / "d", historian_url=f"duckdb://{target}")
    )
    historian.stop()
    assert target.is_file()
    assert not (tmp_path / "d" / "historian.duckdb").exists()


def test_an_unreachable_postgres_is_named_with_its_url() -> None:
    url = "postgresql://postgres@127.0.0.1:1/test"
    with pytest.raises(HistorianUnavailableError, match=r"127\.0\.0\.1:1/test"):
        open_historian(Settings(historian_url=url))

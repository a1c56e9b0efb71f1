"""Native partitions are created for the time ranges a write touches, and indexed once cold."""

from __future__ import annotations

import pytest

from omp.core.batch import PointBatch
from omp.core.errors import HistorianError
from omp.core.events import Event, EventKind
from omp.core.time import US_PER_DAY, US_PER_HOUR
from omp.historian.backends.postgres import Layout, PostgresBackend
from tests.integration.postgres.conftest import Store

pytestmark = pytest.mark.postgres

T0 = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z


def _partitions(store: Store) -> dict[str, bool]:
    """Partition name -> whether it has an index."""
    rows = store.sql(
        "SELECT c.relname, EXISTS (SELECT 1 FROM pg_index x WHERE x.indrelid = c.oid)"
        " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = '{s}.points'::regclass"
    )
    return {str(name): bool(indexed) for name, indexed in rows}


def _write(backend: PostgresBackend, *ts: int) -> None:
    backend.write(PointBatch.of([1] * len(ts), list(ts), [1.0] * len(ts)), None, ())


def test_one_partition_per_hour_touched(store: Store, backend: PostgresBackend) -> None:
    assert backend.layout is Layout.NATIVE
    _write(backend, T0 + 5, T0 + US_PER_HOUR + 5, T0 + 2 * US_PER_HOUR + 5)
    assert sorted(_partitions(store)) == sorted(f"points_{T0 + k * US_PER_HOUR}" for k in range(3))
    _write(backend, T0 + 7, T0 + 2 * US_PER_HOUR + 9)
    assert len(_partitions(store)) == 3


def test_wide_partitions_go_cold_and_get_a_brin_index(store: Store) -> None:
    backend = store.open(partition_width=6 * US_PER_HOUR)
    width = 6 * US_PER_HOUR
    _write(backend, T0, T0 + width)
    assert not any(_partitions(store).values())
    _write(backend, T0 + 3 * width)
    backend.close()
    assert _partitions(store) == {
        f"points_{T0}": True,
        f"points_{T0 + width}": True,
        f"points_{T0 + 3 * width}": False,
    }
    kinds = store.sql(
        "SELECT am.amname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid"
        " JOIN pg_am am ON am.oid = c.relam WHERE x.indrelid = %s::regclass",
        (f'"{store.schema}"."points_{T0}"',),
    )
    assert kinds == [("brin",)]


def test_hourly_partitions_stay_unindexed(store: Store, backend: PostgresBackend) -> None:
    _write(backend, T0, T0 + US_PER_HOUR, T0 + 5 * US_PER_HOUR)
    assert len(_partitions(store)) == 3
    assert not any(_partitions(store).values())


def test_a_rolled_back_write_forgets_its_partitions(store: Store, backend: PostgresBackend) -> None:
    points = PointBatch.of([1, 1], [T0 + 4 * US_PER_HOUR, T0 + 5 * US_PER_HOUR], [1.0, 2.0])
    broken = Event(ts=T0, asset="a/b", kind=EventKind.ALARM, name="x", attributes={"o": object()})
    with pytest.raises(HistorianError, match="not JSON-serialisable"):
        backend.write(points, None, [broken])
    assert _partitions(store) == {}
    assert backend.latest([1]).num_rows == 0
    _write(backend, T0 + 4 * US_PER_HOUR)
    assert list(_partitions(store)) == [f"points_{T0 + 4 * US_PER_HOUR}"]


def test_width_is_fixed_when_the_schema_is_created(store: Store) -> None:
    first = store.open(partition_width=US_PER_DAY)
    _write(first, T0 + 5, T0 + 3 * US_PER_HOUR)
    first.close()
    again = store.open(partition_width=US_PER_HOUR)
    _write(again, T0 + 7 * US_PER_HOUR)
    again.close()
    assert list(_partitions(store)) == [f"points_{T0}"]
    assert store.sql("SELECT value FROM {s}.meta WHERE key = 'partition_width'") == [
        (str(US_PER_DAY),)
    ]


def test_points_before_1970_get_a_partition(store: Store, backend: PostgresBackend) -> None:
    _write(backend, -1)
    assert list(_partitions(store)) == [f"points_m{US_PER_HOUR}"]

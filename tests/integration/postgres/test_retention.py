"""Raw retention drops whole partitions when a cutoff covers every signal in them."""

from __future__ import annotations

import numpy as np
import pytest

from omp.core.batch import PointBatch
from omp.core.time import US_PER_HOUR, US_PER_SECOND
from omp.historian.backends.postgres import PostgresBackend
from omp.historian.types import RawQuery, Tier
from tests.integration.postgres.conftest import Store

pytestmark = pytest.mark.postgres

T0 = 1_767_225_600_000_000


def _fill(backend: PostgresBackend, signals: list[int], hours: int) -> None:
    ts = T0 + np.arange(0, hours * US_PER_HOUR, 60 * US_PER_SECOND)
    sid = np.repeat(np.array(signals, np.int32), len(ts))
    backend.write(PointBatch.of(sid, np.tile(ts, len(signals)), np.ones(len(sid))), None, ())


def _partition_names(store: Store) -> list[str]:
    rows = store.sql(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = '{s}.points'::regclass ORDER BY 1"
    )
    return [str(r[0]) for r in rows]


def _count(backend: PostgresBackend, signal: int) -> int:
    table, _ = backend.read_raw(RawQuery((signal,), 0, 2**62, limit=1_000_000))
    return table.num_rows


def test_covered_partitions_are_dropped_and_counted(store: Store, backend: PostgresBackend) -> None:
    _fill(backend, [1, 2], hours=3)
    cutoff = T0 + 2 * US_PER_HOUR + 30 * 60 * US_PER_SECOND
    deleted = backend.delete_before(Tier.RAW, [(cutoff, [1, 2])])
    assert deleted == 2 * 150
    assert _partition_names(store) == [f"points_{T0 + 2 * US_PER_HOUR}"]
    assert _count(backend, 1) == _count(backend, 2) == 30


def test_a_partition_holding_an_uncovered_signal_is_kept(
    store: Store, backend: PostgresBackend
) -> None:
    _fill(backend, [1, 2], hours=2)
    deleted = backend.delete_before(Tier.RAW, [(T0 + 2 * US_PER_HOUR, [1])])
    assert deleted == 120
    assert len(_partition_names(store)) == 2
    assert (_count(backend, 1), _count(backend, 2)) == (0, 120)


def test_latest_forgets_a_deleted_point_but_replays_stay_safe(backend: PostgresBackend) -> None:
    _fill(backend, [1], hours=1)
    backend.delete_before(Tier.RAW, [(T0 + 2 * US_PER_HOUR, [1])])
    assert backend.latest([1]).num_rows == 0
    newer = PointBatch.of([1, 1], [T0 + 2 * US_PER_HOUR, T0 + 2 * US_PER_HOUR], [5.0, 6.0])
    assert backend.write(newer, None, ()).points == 1
    assert backend.latest([1]).to_pylist()[0]["value"] == 5.0
    assert backend.write(newer, None, ()).duplicates == 2

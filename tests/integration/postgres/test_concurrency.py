"""Reads run on other threads while the writer writes; writers of one signal never duplicate."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from omp.core.batch import PointBatch
from omp.core.errors import HistorianUnavailableError
from omp.historian.backends.postgres import PostgresBackend
from omp.historian.types import Agg, AggregateQuery, RawQuery, Tier
from tests.integration.postgres.conftest import Store

pytestmark = pytest.mark.postgres

T0 = 1_767_225_600_000_000
SECOND = 1_000_000


def _flush(k: int, signals: int = 10, seconds: int = 60) -> PointBatch:
    ts = T0 + (k * seconds + np.arange(seconds)) * SECOND
    sid = np.repeat(np.arange(1, signals + 1, dtype=np.int32), seconds)
    return PointBatch.of(
        sid, np.tile(ts, signals), np.tile(np.arange(seconds, dtype=float), signals)
    )


def test_readers_on_other_threads_see_only_whole_flushes(backend: PostgresBackend) -> None:
    done = threading.Event()
    errors: list[BaseException] = []
    counts: list[int] = []

    def read() -> None:
        query = AggregateQuery(tuple(range(1, 11)), T0, T0 + 10**12, 60 * SECOND, (Agg.COUNT,))
        try:
            while not done.is_set():
                table = backend.aggregate(query, Tier.RAW)
                total = int(sum(table.column("count").to_pylist()))
                counts.append(total)
                assert total % 600 == 0  # 10 signals x 60 points per flush, never a part
                backend.latest(list(range(1, 11)))
                backend.read_raw(RawQuery((1, 2), T0, T0 + 10**12, limit=50))
        except BaseException as exc:
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for thread in readers:
        thread.start()
    for k in range(40):
        backend.write(_flush(k), None, ())
    done.set()
    for thread in readers:
        thread.join(timeout=30)
    assert errors == []
    assert counts
    assert max(counts) <= 40 * 600


def test_two_writers_replaying_the_same_signals_store_each_point_once(store: Store) -> None:
    first, second = store.open(), store.open()
    errors: list[BaseException] = []

    def write(backend: PostgresBackend) -> None:
        try:
            for k in range(15):
                backend.write(_flush(k), None, ())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(b,)) for b in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    first.close()
    second.close()
    assert errors == []
    rows = store.sql("SELECT count(*), count(DISTINCT (signal_id, ts)) FROM {s}.points")
    assert rows == [(15 * 600, 15 * 600)]
    sums = store.sql("SELECT sum(n) FROM {s}.rollup_1m")
    assert sums == [(15 * 600,)]


def test_writer_reconnects_after_losing_its_connection(store: Store) -> None:
    backend = store.open()
    backend.write(_flush(0), None, ())
    killed = store.sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
        (f"omp writer {store.schema}",),
    )
    assert killed == [(True,)]
    with pytest.raises(HistorianUnavailableError, match=store.url.split("@")[-1]):
        backend.write(_flush(1), None, ())
    assert backend.write(_flush(2), None, ()).points == 600
    backend.close()
    assert store.sql("SELECT count(*) FROM {s}.points") == [(1200,)]

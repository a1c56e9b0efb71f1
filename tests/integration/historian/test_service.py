"""The ``Historian`` service on a real backend: concurrent reads while the writer ingests."""

from __future__ import annotations

import threading

import numpy as np

from omp.core.batch import PointBatch
from omp.historian.backend import HistorianBackend
from omp.historian.service import Historian
from omp.historian.types import Agg, AggregateQuery, RawQuery
from tests.integration.historian._helpers import T0, M, S

SIGNALS = 10
SECONDS = 3_000


def _batch(first: int, seconds: int) -> PointBatch:
    secs = np.arange(first, first + seconds)
    ts = np.repeat(T0 + secs * S, SIGNALS)
    sid = np.tile(np.arange(1, SIGNALS + 1, dtype=np.int32), seconds)
    return PointBatch.of(sid, ts, (secs % 7).repeat(SIGNALS).astype(np.float64))


def test_reads_run_concurrently_with_the_writer(backend: HistorianBackend) -> None:
    historian = Historian(backend, flush_interval=5_000, flush_points=2_000).start()
    ids = historian.ensure_ids([f"acme/m/{i}" for i in range(SIGNALS)])
    assert sorted(ids.values()) == list(range(1, SIGNALS + 1))
    errors: list[BaseException] = []
    done = threading.Event()
    reads = 0
    query = AggregateQuery(tuple(ids.values()), T0, T0 + SECONDS * S, M, (Agg.COUNT, Agg.TWA))

    def reader() -> None:
        nonlocal reads
        try:
            while not done.is_set():
                table = historian.aggregate(query)
                counts = table.column("count").to_pylist()
                assert all(0 <= c <= 60 for c in counts)
                # A bucket without points appears only because a value holds in it (twa).
                twa = table.column("twa").to_pylist()
                assert all(t is not None for c, t in zip(counts, twa, strict=True) if c == 0)
                historian.latest(list(ids.values()))
                historian.read_raw(RawQuery((1,), T0, T0 + SECONDS * S, limit=100))
                reads += 1
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for first in range(0, SECONDS, 50):
            historian.write(_batch(first, 50), timeout=30)
        historian.write(_batch(0, 100), timeout=30)  # a replay on top
        historian.flush(timeout=30)
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=30)
    stats = historian.stats()
    final = historian.aggregate(query)
    historian.stop(timeout=30)
    assert errors == []
    assert reads > 0
    assert stats.points_written == SECONDS * SIGNALS
    assert stats.duplicates == 100 * SIGNALS
    assert sum(final.column("count").to_pylist()) == SECONDS * SIGNALS

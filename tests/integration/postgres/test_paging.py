"""Raw pages read partition by partition still come out in one global (ts, signal_id) order."""

from __future__ import annotations

import random

import pytest

from omp.core.batch import PointBatch, TextBatch
from omp.core.time import US_PER_HOUR
from omp.historian.backends.postgres import PostgresBackend
from omp.historian.types import RawQuery

pytestmark = pytest.mark.postgres

T0 = 1_767_225_600_000_000


@pytest.mark.parametrize("limit", [1, 7, 250])
def test_pages_across_partitions_with_text_interleaved(
    backend: PostgresBackend, limit: int
) -> None:
    rng = random.Random(limit)
    numeric = {
        (sid, T0 + rng.randrange(0, 5 * US_PER_HOUR)) for sid in (1, 2, 3) for _ in range(120)
    }
    text = {(9, T0 + rng.randrange(-US_PER_HOUR, 6 * US_PER_HOUR)) for _ in range(40)}
    sid, ts = zip(*numeric, strict=True)
    backend.write(PointBatch.of(sid, ts, [float(t % 97) for t in ts]), None, ())
    tsid, tts = zip(*text, strict=True)
    backend.write(PointBatch.empty(), TextBatch.of(tsid, tts, [f"t{t}" for t in tts]), ())
    start, end = T0 - US_PER_HOUR // 2, T0 + 4 * US_PER_HOUR + 17
    want = sorted((t, s) for s, t in numeric | text if start <= t < end)
    got: list[tuple[int, int]] = []
    query = RawQuery((1, 2, 3, 9), start, end, limit=limit)
    while True:
        table, cursor = backend.read_raw(query)
        assert table.num_rows <= limit
        got += list(
            zip(table.column("ts").to_pylist(), table.column("signal_id").to_pylist(), strict=True)
        )
        if cursor is None:
            break
        query = RawQuery(query.signal_ids, start, end, limit=limit, after=cursor)
    assert got == want

"""Points written through the binary COPY path come back bit for bit, edge values included."""

from __future__ import annotations

import math

import numpy as np
import pytest

from omp.core.batch import PointBatch, TextBatch
from omp.historian.backends.postgres import PostgresBackend
from omp.historian.types import RawQuery

pytestmark = pytest.mark.postgres

EDGE = [
    (1, 0, 0.0, 0),
    (1, 1, -0.0, 1),
    (1, 1_767_225_600_000_123, float("nan"), 2),
    (2, -86_400_000_001, float("inf"), 255),
    (2, 253_402_300_799_999_999, -float("inf"), 0),
    (3, 1_767_225_600_000_000, 5e-324, 0),
    (3, 1_767_225_600_000_001, 1.7976931348623157e308, 0),
    (3, 1_767_225_600_000_002, -1.7976931348623157e308, 0),
]


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or (
        a == b and math.copysign(1, a) == math.copysign(1, b)
    )


def test_edge_values_round_trip(backend: PostgresBackend) -> None:
    sid, ts, value, quality = (list(col) for col in zip(*EDGE, strict=True))
    stats = backend.write(PointBatch.of(sid, ts, value, quality), None, ())
    assert stats.points == len(EDGE)
    table, cursor = backend.read_raw(RawQuery((1, 2, 3), -(2**62), 2**62))
    assert cursor is None
    got = sorted(
        zip(
            table.column("signal_id").to_pylist(),
            table.column("ts").to_pylist(),
            table.column("value").to_pylist(),
            table.column("quality").to_pylist(),
            strict=True,
        ),
        key=lambda row: (row[0], row[1]),
    )
    want = sorted(EDGE, key=lambda row: (row[0], row[1]))
    assert [(r[0], r[1], r[3]) for r in got] == [(r[0], r[1], r[3]) for r in want]
    assert all(_same(g[2], w[2]) for g, w in zip(got, want, strict=True))


def test_large_batch_round_trips_exactly(backend: PostgresBackend) -> None:
    rng = np.random.default_rng(7)
    n = 50_000
    sid = rng.integers(1, 40, n).astype(np.int32)
    ts = 1_767_225_600_000_000 + rng.integers(0, 3 * 3_600_000_000, n)
    value = rng.normal(0, 1e6, n)
    batch = PointBatch.of(sid, ts, value, rng.integers(0, 3, n))
    stats = backend.write(batch, None, ())
    keys = set(zip(sid.tolist(), ts.tolist(), strict=True))
    assert (stats.points, stats.duplicates) == (len(keys), n - len(keys))
    first: dict[tuple[int, int], tuple[float, int]] = {}
    for s, t, v, q in zip(
        sid.tolist(), ts.tolist(), value.tolist(), batch.quality.tolist(), strict=True
    ):
        first.setdefault((s, t), (v, q))
    got: dict[tuple[int, int], tuple[float, int]] = {}
    query = RawQuery(tuple(range(1, 40)), 0, 2**62, limit=20_000)
    while True:
        table, cursor = backend.read_raw(query)
        for row in table.to_pylist():
            assert (row["signal_id"], row["ts"]) not in got
            got[(row["signal_id"], row["ts"])] = (row["value"], row["quality"])
        if cursor is None:
            break
        query = RawQuery(query.signal_ids, query.start, query.end, limit=query.limit, after=cursor)
    assert got == first


def test_text_values_round_trip_with_awkward_characters(backend: PostgresBackend) -> None:
    texts = ["", "tab\there", "new\nline", "back\\slash", "quote ' \" ", "Ölstand 🛢️", "x" * 100_000]
    ts = [1_767_225_600_000_000 + k for k in range(len(texts))]
    stats = backend.write(PointBatch.empty(), TextBatch.of([5] * len(texts), ts, texts), ())
    assert stats.text == len(texts)
    table, _ = backend.read_raw(RawQuery((5,), 0, 2**62))
    assert table.column("text").to_pylist() == texts
    assert backend.latest([5]).column("text").to_pylist() == ["x" * 100_000]

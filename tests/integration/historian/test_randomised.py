"""Randomised scenarios against the naive reference, on every tier.

Timestamps sit on a coarse grid so points often fall exactly on bucket
borders and on ``start``/``end``; batches arrive shuffled or sorted, with
replays of conflicting values, points just beyond the carry limit, and
reopens of the store between batches.
"""

from __future__ import annotations

import math
import random

import pytest

from omp.core.batch import PointBatch
from omp.historian.backend import HistorianBackend
from omp.historian.types import CARRY_LIMIT, Agg, AggregateQuery, StateQuery, Tier
from tests.integration.historian import _reference
from tests.integration.historian._helpers import T0, H, M, S
from tests.integration.historian.conftest import BackendFactory

ALL = tuple(Agg)
Points = list[tuple[int, int, float]]


def _points(rng: random.Random, sids: list[int], grid: int, span: int) -> Points:
    out: Points = []
    for sid in sids:
        for _ in range(rng.randrange(1, 120)):
            ts = T0 - span // 4 + rng.randrange(0, span // grid) * grid
            if rng.random() < 0.05:
                ts -= CARRY_LIMIT + rng.randrange(0, 2) * grid
            out.append((sid, ts, float(rng.randrange(0, 20))))
    rng.shuffle(out)
    return out


def _ingest(
    factory: BackendFactory, backend: HistorianBackend, rng: random.Random, points: Points
) -> tuple[HistorianBackend, dict[int, list[tuple[int, float]]]]:
    stored: dict[tuple[int, int], float] = {}
    i = 0
    while i < len(points):
        chunk = points[i : i + rng.randrange(1, 40)]
        i += len(chunk)
        if rng.random() < 0.5:
            chunk.sort(key=lambda p: p[1])
        sid, ts, value = zip(*chunk, strict=True)
        backend.write(PointBatch.of(sid, ts, value), None, ())
        for s, t, v in chunk:
            stored.setdefault((s, t), v)
        if rng.random() < 0.2:
            backend.close()
            backend = factory()
    series: dict[int, list[tuple[int, float]]] = {}
    for (s, t), v in sorted(stored.items()):
        series.setdefault(s, []).append((t, v))
    return backend, series


def _check_aggregates(
    backend: HistorianBackend, series: dict[int, list[tuple[int, float]]], q: AggregateQuery
) -> None:
    want = _reference.aggregate(
        series, start=q.start, end=q.end, every=q.every, aggs=ALL, now=q.now
    )
    for tier in Tier:
        if tier is not Tier.RAW and q.every % tier.width:
            continue
        table = backend.aggregate(q, tier)
        got = {(r["signal_id"], r["bucket"]): r for r in table.to_pylist()}
        assert set(got) == set(want), (tier, q)
        for key, expected in want.items():
            for agg, value in expected.items():
                actual = got[key][agg.value]
                if value is None:
                    assert actual is None, (tier, q, key, agg)
                    continue
                close = math.isclose(actual, value, rel_tol=1e-9, abs_tol=1e-6)
                assert close, (tier, q, key, agg, actual, value)


@pytest.mark.parametrize("seed", range(6))
def test_random_scenarios_match_the_reference(backend_factory: BackendFactory, seed: int) -> None:
    rng = random.Random(seed)
    backend = backend_factory()
    sids = list(backend.ensure_ids([f"acme/r/{i}" for i in range(3)]).values())
    grid = rng.choice([S, 15 * S, M, 7 * M])
    span = rng.choice([2 * H, 30 * H, 240 * H])
    backend, series = _ingest(backend_factory, backend, rng, _points(rng, sids, grid, span))
    try:
        for _ in range(6):
            every = rng.choice([M, 2 * M, 15 * M, H, 3 * H, 24 * H])
            start = T0 - span // 4 + rng.randrange(-3, span // grid) * grid + rng.choice([0, 1, -1])
            end = start + rng.randrange(1, span // grid + 5) * grid + rng.choice([0, 1])
            now = start + rng.randrange(0, 2 * (end - start) + 1)
            twa_now = rng.choice([None, now])
            q = AggregateQuery(tuple(sids), start, end, every, ALL, now=twa_now)
            _check_aggregates(backend, series, q)
            want = _reference.state_durations(series, start=start, end=end, every=every, now=now)
            table = backend.state_durations(StateQuery(tuple(sids), start, end, every, now=now))
            got = {
                (r["signal_id"], r["bucket"], r["state"]): r["duration"] for r in table.to_pylist()
            }
            assert got == want, (start, end, every, now)
    finally:
        backend.close()

"""Stored rollups always equal a recomputation from raw, whatever order the points came in."""

from __future__ import annotations

import math
import random

import pytest

from omp.core.batch import PointBatch
from omp.historian.backends.postgres import PostgresBackend
from omp.historian.backends.postgres.algebra import merge_partials, raw_partials
from omp.historian.partials import FIELDS as ALL_FIELDS
from tests.integration.postgres.conftest import Store

pytestmark = pytest.mark.postgres

T0 = 1_767_225_600_000_000
MINUTE = 60_000_000
HOUR = 60 * MINUTE


def _rollup(store: Store, tier: str) -> dict[tuple[int, int], tuple[float, ...]]:
    rows = store.sql(f"SELECT signal_id, bucket, {', '.join(ALL_FIELDS)} FROM {{s}}.rollup_{tier}")
    return {(int(r[0]), int(r[1])): tuple(float(v) for v in r[2:]) for r in rows}  # type: ignore[arg-type]


def _from_raw(store: Store) -> tuple[dict, dict]:  # type: ignore[type-arg]
    source = "SELECT signal_id, ts, value FROM {s}.points"
    minutes = raw_partials(source, MINUTE, ALL_FIELDS)
    segments = f"SELECT signal_id, bucket, {', '.join(ALL_FIELDS)} FROM ({minutes}) m"
    hours = merge_partials(segments, HOUR, ALL_FIELDS)
    out = []
    for select in (minutes, hours):
        rows = store.sql(f"SELECT signal_id, bucket, {', '.join(ALL_FIELDS)} FROM ({select}) x")
        out.append({(int(r[0]), int(r[1])): tuple(float(v) for v in r[2:]) for r in rows})  # type: ignore[arg-type]
    return out[0], out[1]


def _close(a: dict, b: dict) -> bool:  # type: ignore[type-arg]
    return a.keys() == b.keys() and all(
        math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-6)
        for k in a
        for x, y in zip(a[k], b[k], strict=True)
    )


@pytest.mark.parametrize("seed", [11, 12])
def test_in_order_late_and_replayed_writes_keep_rollups_exact(
    store: Store, backend: PostgresBackend, seed: int
) -> None:
    rng = random.Random(seed)
    points = [
        (sid, T0 + rng.randrange(0, 3 * HOUR), float(rng.randrange(0, 100)))
        for sid in (1, 2, 3)
        for _ in range(600)
    ]
    in_order = sorted(points, key=lambda p: p[1])
    flushes = [in_order[i : i + 97] for i in range(0, len(in_order), 97)]
    late = rng.sample(points, 150)
    replay = rng.sample(points, 200)
    for flush in [*flushes[::2], late, *flushes[1::2], replay]:
        sid, ts, value = zip(*flush, strict=True)
        backend.write(PointBatch.of(sid, ts, value), None, ())
    minutes, hours = _from_raw(store)
    assert _close(_rollup(store, "1m"), minutes)
    assert _close(_rollup(store, "1h"), hours)
    stored = store.sql("SELECT count(*), count(DISTINCT (signal_id, ts)) FROM {s}.points")
    assert stored[0][0] == stored[0][1] == len({(p[0], p[1]) for p in points})

"""A deliberately naive reference of the aggregate semantics in ``omp.historian.types``.

One Python loop per point, written straight from the contract's wording, so
the conformance tests can compare any backend (and any tier) against it on
irregular data. Small and slow on purpose; it is checked itself against
hand-computed examples in ``test_aggregates.py``.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence

from omp.historian.types import CARRY_LIMIT, Agg

Series = Sequence[tuple[int, float]]
"""One signal's stored points, sorted by time."""


def _step(prev: float, cur: float) -> float:
    return cur - prev if cur >= prev else cur


def _carry(points: Series, times: list[int], at: int) -> tuple[int, float] | None:
    """The last point before ``at``, if within ``CARRY_LIMIT``."""
    i = bisect.bisect_left(times, at)
    if i == 0 or points[i - 1][0] < at - CARRY_LIMIT:
        return None
    return points[i - 1]


def _buckets(start: int, end: int, every: int) -> range:
    """Every bucket start whose bucket overlaps ``[start, end)``."""
    return range(start - start % every, end, every)


def aggregate(
    series: Mapping[int, Series],
    *,
    start: int,
    end: int,
    every: int,
    aggs: Sequence[Agg],
    now: int | None = None,
) -> dict[tuple[int, int], dict[Agg, float | None]]:
    """``(signal_id, bucket) -> {agg: value}``.

    Buckets holding a point in ``[start, end)``; with twa also the buckets
    without one, starting (clipped) before ``now``, that have a carried-in
    value: twa is that value, count and increase 0, the other aggregates ``None``.
    """
    out: dict[tuple[int, int], dict[Agg, float | None]] = {}
    for sid, points in series.items():
        times = [t for t, _ in points]
        chunks: dict[int, list[tuple[int, float]]] = defaultdict(list)
        for t, v in points:
            if start <= t < end:
                chunks[t - t % every].append((t, v))
        for bucket in sorted(chunks):
            es, ee = max(bucket, start), min(bucket + every, end)
            carry = _carry(points, times, es)
            out[(sid, bucket)] = {a: _one(a, chunks[bucket], carry, es, ee) for a in aggs}
        limit = end if now is None else min(end, now)
        if Agg.TWA not in aggs or limit <= start:
            continue
        for bucket in _buckets(start, limit, every):
            carry = _carry(points, times, max(bucket, start))
            if bucket not in chunks and carry is not None:
                out[(sid, bucket)] = {a: _gap(a, carry[1]) for a in aggs}
    return out


def _gap(agg: Agg, held: float) -> float | None:
    """An aggregate of a bucket without points whose carried-in value is ``held``."""
    return {Agg.TWA: held, Agg.COUNT: 0.0, Agg.INCREASE: 0.0}.get(agg)


def _one(
    agg: Agg, chunk: Series, carry: tuple[int, float] | None, es: int, ee: int
) -> float | None:
    values = [v for _, v in chunk]
    n = len(values)
    mean = sum(values) / n
    simple: dict[Agg, float | None] = {
        Agg.AVG: mean,
        Agg.MIN: min(values),
        Agg.MAX: max(values),
        Agg.COUNT: float(n),
        Agg.SUM: sum(values),
        Agg.FIRST: values[0],
        Agg.LAST: values[-1],
        Agg.STDDEV: math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else None,
    }
    if agg in simple:
        return simple[agg]
    if agg is Agg.TWA:
        area = 0.0
        for i, (t, v) in enumerate(chunk):
            until = chunk[i + 1][0] if i + 1 < n else ee
            area += v * (until - t)
        covered_from = chunk[0][0]
        if carry is not None:
            area += carry[1] * (chunk[0][0] - es)
            covered_from = es
        return area / (ee - covered_from)
    increase = sum(_step(values[i - 1], values[i]) for i in range(1, n))
    if carry is not None:
        increase += _step(carry[1], values[0])
    return increase


def state_durations(
    series: Mapping[int, Series], *, start: int, end: int, every: int, now: int
) -> dict[tuple[int, int, float], int]:
    """``(signal_id, bucket, state) -> microseconds`` (only positive durations).

    Every bucket of ``[start, min(end, now))`` counts, with or without a point.
    """
    out: dict[tuple[int, int, float], int] = {}
    horizon = min(end, now)
    for sid, points in series.items():
        times = [t for t, _ in points]
        for bucket in _buckets(start, horizon, every):
            es, ee = max(bucket, start), min(bucket + every, horizon)
            # Points opened more than CARRY_LIMIT before the bucket, or at or after
            # its end (or ``end``), cannot count here.
            first = bisect.bisect_left(times, es - CARRY_LIMIT)
            last = bisect.bisect_left(times, min(ee, end))
            for i in range(first, last):
                t, state = points[i]
                until = points[i + 1][0] if i + 1 < len(points) else horizon
                span = min(until, ee) - max(t, es)
                if span > 0:
                    key = (sid, bucket, state)
                    out[key] = out.get(key, 0) + span
    return dict(sorted(out.items()))

"""Portable SQL for time in state (step semantics, see ``omp.historian.types``).

Each point opens an interval that lasts until the signal's next point, or
until ``min(end, now)``. An interval counts in every bucket it overlaps
within ``[start, min(end, now))`` whose clipped start lies within
``CARRY_LIMIT`` of the interval's opening point, whether or not that bucket
holds a point of its own (decision 0016). The backend supplies the points
(the carry row and the points in range, as ``signal_id, ts, value``, ``ts``
in int8 microseconds), how to align a timestamp to a bucket, and how to
repeat a row per bucket.
"""

from __future__ import annotations

from collections.abc import Callable

from omp.historian.partial_sql import Expand
from omp.historian.types import CARRY_LIMIT, StateQuery


def state_durations_sql(
    points: str,
    query: StateQuery,
    *,
    bucket_of: Callable[[str], str],
    expand: Expand,
    inside: str | None = None,
) -> str:
    """Durations per ``(signal_id, bucket, state)``, positive only, ordered by those keys.

    Columns are ``signal_id, bucket, state, duration``; the caller casts them.
    With ``inside`` (a tier-served answer, ``omp.historian.state_rollups``),
    ``points`` are marked points with an ``opens`` column, and ``inside``
    holds the state rollup rows (``signal_id, bucket, state, duration``) of
    whole tier buckets within ``[start, min(end, now))``.
    """
    horizon = min(query.end, query.now)
    start, every = int(query.start), int(query.every)
    order, opening = ("ts, opens", " WHERE opens = 1") if inside is not None else ("ts", "")
    intervals = (
        f"SELECT signal_id, ts, state, until FROM (SELECT signal_id, ts, value AS state,"
        f" {'opens' if inside is not None else '1 AS opens'},"
        f" coalesce(lead(ts) OVER (PARTITION BY signal_id ORDER BY {order}), {horizon}) AS until"
        f" FROM ({points}) pts) o{opening}"
    )
    bounded = (
        f"SELECT signal_id, ts, state, until, {bucket_of(f'greatest(ts, {start})')} AS lo,"
        f" least(until, {horizon}, ts + {int(CARRY_LIMIT) + 1}) AS hi FROM ({intervals}) iv"
    )

    def span(bucket: str) -> str:
        es, ee = f"greatest({bucket}, {start})", f"least({bucket} + {every}, {horizon})"
        return f"least(until, {ee}) - greatest(ts, {es})"

    # Most intervals end inside the bucket they open in: only the rest are expanded
    # into the further buckets they cover (a row per bucket costs time).
    longer = f"(SELECT * FROM i WHERE hi > lo + {every})"
    spans = (
        f"SELECT signal_id, lo AS bucket, state, {span('lo')} AS span FROM i"
        f" UNION ALL SELECT signal_id, gap AS bucket, state, {span('gap')} AS span"
        f" FROM ({expand(longer, f'lo + {every}', 'hi', every)}) e"
    )
    if inside is not None:
        spans += (
            f" UNION ALL SELECT signal_id, {bucket_of('bucket')} AS bucket, state,"
            f" duration AS span FROM ({inside}) t"
        )
    return (
        f"WITH i AS ({bounded}) SELECT signal_id, bucket, state, sum(span) AS duration"
        f" FROM ({spans}) s WHERE span > 0 GROUP BY signal_id, bucket, state"
        " ORDER BY signal_id, bucket, state"
    )

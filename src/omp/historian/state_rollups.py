"""Portable SQL for time in state served from per-state rollups (decision 0017).

A *state rollup* row ``(signal_id, bucket, state, duration)`` sums, for one
tracked state signal and one tier bucket, the intervals between consecutive
points that both lie inside the bucket, by the state of the opening point.
The interval that leaves a tier bucket (from its last point to the next
point, wherever that is) is not stored: at query time it comes from the
ordinary rollup row's ``last_ts``/``last_v`` and the next bucket's
``first_ts``, and runs through the same bounding and bucket expansion as a raw
answer (``omp.historian.state_sql``), so a rollup-served answer equals the raw
answer exactly (durations are integer microseconds).

Backends supply table names and dialect pieces; all timestamps are int8
microseconds.
"""

from __future__ import annotations

from collections.abc import Callable

BucketOf = Callable[[str], str]


def states_from_points(points: str, *, bucket_of: BucketOf) -> str:
    """Per-state durations between consecutive points of ``points`` inside one bucket.

    ``points`` has columns ``signal_id, ts, value``; it must hold every point
    of each bucket it touches (a partial bucket gives a partial sum).
    """
    return (
        "SELECT signal_id, bucket, state, sum(nxt - ts) AS duration FROM ("
        f"SELECT signal_id, ts, value AS state, {bucket_of('ts')} AS bucket,"
        f" lead(ts) OVER (PARTITION BY signal_id, {bucket_of('ts')} ORDER BY ts) AS nxt"
        f" FROM ({points}) p) x WHERE nxt IS NOT NULL GROUP BY signal_id, bucket, state"
    )


def states_from_finer(states: str, rollups: str, *, bucket_of: BucketOf) -> str:
    """Coarser per-state rows from the finer tier's state rows and ordinary rollup rows.

    ``states`` (``signal_id, bucket, state, duration``) and ``rollups``
    (``signal_id, bucket, first_ts, last_ts, last_v``) must hold every finer
    bucket of each coarse bucket they touch. The intervals between finer
    buckets of one coarse bucket run from a finer bucket's last point to the
    next finer bucket's first point.
    """
    between = (
        "SELECT signal_id, coarse AS bucket, last_v AS state, nxt - last_ts AS duration FROM ("
        f"SELECT signal_id, {bucket_of('bucket')} AS coarse, last_ts, last_v,"
        f" lead(first_ts) OVER (PARTITION BY signal_id, {bucket_of('bucket')} ORDER BY bucket)"
        f" AS nxt FROM ({rollups}) r) x WHERE nxt IS NOT NULL"
    )
    inside = f"SELECT signal_id, {bucket_of('bucket')} AS bucket, state, duration FROM ({states}) s"
    return (
        "SELECT signal_id, bucket, state, sum(duration) AS duration"
        f" FROM ({inside} UNION ALL {between}) u GROUP BY signal_id, bucket, state"
    )


def served_points(carry: str, edges: str, rollups: str) -> str:
    """The marked points a tier-served answer steps through, for ``state_sql``.

    Columns ``signal_id, ts, value, opens``: the carry row and the raw edge
    points open intervals (``opens = 1``); each rollup row gives its first
    point (``opens = 0``: only an end for the interval before it; the intervals
    inside the bucket are in the state rollup) and its last point (``opens = 1``).
    ``carry`` and ``edges`` have ``signal_id, ts, value``; ``rollups`` has
    ``signal_id, first_ts, last_ts, last_v``.
    """
    return (
        f"SELECT signal_id, ts, value, 1 AS opens FROM ({carry}) c"
        f" UNION ALL SELECT signal_id, ts, value, 1 AS opens FROM ({edges}) e"
        f" UNION ALL SELECT signal_id, first_ts AS ts, last_v AS value, 0 AS opens"
        f" FROM ({rollups}) f UNION ALL SELECT signal_id, last_ts AS ts, last_v AS value,"
        f" 1 AS opens FROM ({rollups}) l"
    )

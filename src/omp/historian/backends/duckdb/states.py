"""Time in each state per bucket, for state signals (step semantics, see ``types``).

Signals declared as state signals (``track_states``) may be served from a
rollup tier's state rollups (decision 0017); the others always from raw.
"""

from __future__ import annotations

from collections.abc import Collection

from omp.historian import state_rollups
from omp.historian.backends.duckdb.aggregate import (
    ROLLUP_TABLES,
    STATE_TABLES,
    carry_source,
    id_list,
    raw_source,
)
from omp.historian.backends.duckdb.partials import bucket_of, expand
from omp.historian.planner import tier_split
from omp.historian.state_sql import state_durations_sql as portable_sql
from omp.historian.types import StateQuery, Tier


def state_durations_sql(
    query: StateQuery, *, tier: Tier = Tier.RAW, tracked: Collection[int] = ()
) -> str:
    """Durations per ``(signal_id, bucket, state)`` in the layout of ``state_durations``.

    Every bucket of ``[start, min(end, now))`` in which a state is in force
    gets its durations, also buckets without a point (``omp.historian.state_sql``).
    With a rollup ``tier``, the ``tracked`` signals among the query's come
    from its state rollups, the rest from raw; the answer is the same.
    """
    served, inner_start, inner_end = [], 0, 0
    if tier is not Tier.RAW:
        served = [i for i in query.signal_ids if i in tracked]
        inner_start, inner_end, _ = tier_split(query.start, min(query.end, query.now), tier.width)
    if inner_start >= inner_end:
        served = []
    rest = [i for i in query.signal_ids if i not in set(served)]
    parts = [_raw(query, id_list(rest))] if rest else []
    if served:
        parts.append(_tiered(query, id_list(served), tier, inner_start, inner_end))
    union = " UNION ALL ".join(f"SELECT * FROM ({part}) p{n}" for n, part in enumerate(parts))
    return (
        "SELECT signal_id::INTEGER AS signal_id, bucket::BIGINT AS bucket,"
        f" state::DOUBLE AS state, duration::BIGINT AS duration FROM ({union}) d"
        " ORDER BY signal_id, bucket, state"
    )


def _carry(ids: str, start: int) -> str:
    return f"SELECT signal_id, last_ts AS ts, last_v AS value FROM ({carry_source(ids, start)}) c"


def _raw(query: StateQuery, ids: str) -> str:
    points = f"{_carry(ids, query.start)} UNION ALL {raw_source(ids, query.start, query.end)}"
    return portable_sql(
        points, query, bucket_of=lambda column: bucket_of(column, query.every), expand=expand
    )


def _tiered(query: StateQuery, ids: str, tier: Tier, inner_start: int, inner_end: int) -> str:
    """Whole tier buckets of ``[inner_start, inner_end)`` from the tier, the edges from raw."""
    rows = f"WHERE signal_id IN ({ids}) AND bucket >= {inner_start} AND bucket < {inner_end}"
    rollups = f"SELECT signal_id, first_ts, last_ts, last_v FROM {ROLLUP_TABLES[tier]} {rows}"
    inside = f"SELECT signal_id, bucket, state, duration FROM {STATE_TABLES[tier]} {rows}"
    edges = (
        f"{raw_source(ids, query.start, inner_start)}"
        f" UNION ALL {raw_source(ids, inner_end, query.end)}"
    )
    points = state_rollups.served_points(_carry(ids, query.start), edges, rollups)
    return portable_sql(
        points,
        query,
        bucket_of=lambda column: bucket_of(column, query.every),
        expand=expand,
        inside=inside,
    )

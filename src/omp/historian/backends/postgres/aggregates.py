"""SQL for time-bucket aggregates and time in state, from raw points or a rollup tier.

Raw avg/min/max/count/sum/stddev is one ``GROUP BY date_bin(...)`` with
PostgreSQL's own aggregates: the hot path the query benchmark measures, as
fast as the hand-written query. Everything else goes through the partial
algebra in ``algebra``: a rollup-served query merges the tier's rows for the
whole tier buckets inside ``[start, end)`` with raw partials of the two
unaligned edges, so it answers exactly what the raw path answers.
"""

from __future__ import annotations

from collections.abc import Collection

from omp.historian import state_rollups, state_sql
from omp.historian.backends.postgres.algebra import (
    expand,
    finalize,
    floor_int,
    merge_partials,
    needs_chain,
    pg_fields_for,
    raw_partials,
    stride,
)
from omp.historian.backends.postgres.sqltext import Names, id_list, ts_literal, us
from omp.historian.partial_sql import rollup_union
from omp.historian.partials import needs_carry
from omp.historian.planner import tier_split
from omp.historian.types import CARRY_LIMIT, Agg, AggregateQuery, StateQuery, Tier

_DIRECT: dict[Agg, str] = {
    Agg.AVG: "avg(value)",
    Agg.MIN: "min(value)",
    Agg.MAX: "max(value)",
    Agg.COUNT: "count(*)",
    Agg.SUM: "sum(value)",
    Agg.STDDEV: "stddev_samp(value)",
}


def raw_source(names: Names, ids: str, lo: int, hi: int) -> str:
    """Points of ``ids`` in ``[lo, hi)``."""
    return (
        f"SELECT signal_id, ts, value FROM {names.points} WHERE signal_id IN ({ids})"
        f" AND ts >= {ts_literal(lo)} AND ts < {ts_literal(hi)}"
    )


def carry_source(names: Names, ids: str, before: int) -> str:
    """The last point of each signal before ``before``, within ``CARRY_LIMIT``.

    ``points`` has no btree to probe backwards, so the point comes from the
    last minute rollup before ``before`` (its ``last_ts``/``last_v``, one
    primary-key probe per signal), or from raw points in the minute that
    holds ``before`` when it is not minute-aligned. The rollup is written in
    the same transaction as the points, so both always agree.
    """
    minute = Tier.MINUTE.width
    head = before - before % minute
    rollup = (
        f"SELECT k.id AS signal_id, r.last_ts, r.last_v"
        f" FROM unnest(ARRAY[{ids}]::int4[]) AS k(id) CROSS JOIN LATERAL ("
        f"SELECT last_ts, last_v FROM {names.rollup['1m']} WHERE signal_id = k.id"
        f" AND bucket < {head} AND bucket >= {head - CARRY_LIMIT - minute}"
        " ORDER BY bucket DESC LIMIT 1) r"
    )
    candidates = [rollup]
    if head < before:
        candidates.append(
            f"SELECT signal_id, {us('ts')} AS last_ts, value AS last_v FROM {names.points}"
            f" WHERE signal_id IN ({ids}) AND ts >= {ts_literal(head)}"
            f" AND ts < {ts_literal(before)}"
        )
    return (
        "SELECT signal_id, last_ts, last_v FROM (SELECT DISTINCT ON (signal_id) signal_id,"
        f" last_ts, last_v FROM ({' UNION ALL '.join(candidates)}) u"
        f" ORDER BY signal_id, last_ts DESC) c WHERE last_ts >= {before - CARRY_LIMIT}"
    )


def aggregate_sql(names: Names, query: AggregateQuery, tier: Tier) -> str:
    """The SQL answering ``query`` from ``tier`` (result layout of ``PointReader.aggregate``)."""
    ids = id_list(query.signal_ids)
    carry = carry_source(names, ids, query.start) if needs_carry(query.aggs) else None
    if tier is not Tier.RAW:
        partials = _rollup_partials(names, query, tier, ids)
        if partials is not None:
            return finalize(partials, carry, query)
    if not needs_chain(query.aggs):
        return _direct(names, query, ids)
    fields = pg_fields_for(query.aggs)
    source = raw_source(names, ids, query.start, query.end)
    return finalize(raw_partials(source, query.every, fields), carry, query)


def _direct(names: Names, query: AggregateQuery, ids: str) -> str:
    select = ", ".join(f"{_DIRECT[a]}::float8 AS {a.value}" for a in query.aggs)
    grp = f"date_bin({stride(query.every)}, ts, 'epoch')"
    return (
        f"SELECT signal_id, {us('grp')} AS bucket, {select} FROM ("
        f"SELECT signal_id, value, {grp} AS grp"
        f" FROM ({raw_source(names, ids, query.start, query.end)}) src) s"
        " GROUP BY signal_id, grp ORDER BY signal_id, grp"
    )


def _rollup_partials(names: Names, query: AggregateQuery, tier: Tier, ids: str) -> str | None:
    """Output-bucket partials from ``tier`` and raw edges; ``None`` if no tier bucket fits."""
    width = tier.width
    if query.every % width:
        raise ValueError(f"every={query.every}us is not a multiple of the {tier} tier width")
    fields = pg_fields_for(query.aggs)
    columns = ", ".join(("signal_id", "bucket", *fields))
    union = rollup_union(
        start=query.start,
        end=query.end,
        width=width,
        columns=columns,
        tier_rows=lambda lo, hi: (
            f"SELECT {columns} FROM {names.rollup[tier.value]} WHERE signal_id IN ({ids})"
            f" AND bucket >= {lo} AND bucket < {hi}"
        ),
        edge_partials=lambda lo, hi: raw_partials(
            raw_source(names, ids, lo, hi), query.every, fields
        ),
    )
    if union is None:
        return None
    if query.every == width:
        # Tier rows already are output buckets, and the raw edges fall in buckets of their own.
        return union
    return merge_partials(union, query.every, fields)


def state_durations_sql(
    names: Names, query: StateQuery, *, tier: Tier = Tier.RAW, tracked: Collection[int] = ()
) -> str:
    """Durations per ``(signal_id, bucket, state)`` in the layout of ``state_durations``.

    Every bucket of ``[start, min(end, now))`` in which a state is in force
    gets its durations, also buckets without a point (``omp.historian.state_sql``).
    With a rollup ``tier``, the ``tracked`` signals among the query's come
    from its state rollups (decision 0017), the rest from raw; the answer is the same.
    """
    served: list[int] = []
    inner_start = inner_end = 0
    if tier is not Tier.RAW:
        served = [i for i in query.signal_ids if i in tracked]
        inner_start, inner_end, _ = tier_split(query.start, min(query.end, query.now), tier.width)
    if inner_start >= inner_end:
        served = []
    rest = [i for i in query.signal_ids if i not in set(served)]
    parts = [_raw_states(names, query, id_list(rest))] if rest else []
    if served:
        parts.append(_tier_states(names, query, id_list(served), tier, (inner_start, inner_end)))
    union = " UNION ALL ".join(f"SELECT * FROM ({part}) p{n}" for n, part in enumerate(parts))
    return (
        "SELECT signal_id::int4 AS signal_id, bucket::int8 AS bucket,"
        " state::float8 AS state, duration::int8 AS duration"
        f" FROM ({union}) d ORDER BY 1, 2, 3"
    )


def _carry_points(names: Names, ids: str, start: int) -> str:
    return (
        f"SELECT signal_id, last_ts AS ts, last_v AS value"
        f" FROM ({carry_source(names, ids, start)}) c"
    )


def _raw_points(names: Names, ids: str, lo: int, hi: int) -> str:
    return f"SELECT signal_id, {us('ts')} AS ts, value FROM ({raw_source(names, ids, lo, hi)}) r"


def _raw_states(names: Names, query: StateQuery, ids: str) -> str:
    points = (
        f"{_carry_points(names, ids, query.start)}"
        f" UNION ALL {_raw_points(names, ids, query.start, query.end)}"
    )
    return state_sql.state_durations_sql(
        points, query, bucket_of=lambda column: floor_int(column, query.every), expand=expand
    )


def _tier_states(
    names: Names, query: StateQuery, ids: str, tier: Tier, inner: tuple[int, int]
) -> str:
    """Whole tier buckets of ``inner`` from the tier's rollups, the edges from raw."""
    rows = f"WHERE signal_id IN ({ids}) AND bucket >= {inner[0]} AND bucket < {inner[1]}"
    rollups = f"SELECT signal_id, first_ts, last_ts, last_v FROM {names.rollup[tier.value]} {rows}"
    inside = f"SELECT signal_id, bucket, state, duration FROM {names.states[tier.value]} {rows}"
    edges = (
        f"{_raw_points(names, ids, query.start, inner[0])}"
        f" UNION ALL {_raw_points(names, ids, inner[1], query.end)}"
    )
    points = state_rollups.served_points(_carry_points(names, ids, query.start), edges, rollups)
    return state_sql.state_durations_sql(
        points,
        query,
        bucket_of=lambda column: floor_int(column, query.every),
        expand=expand,
        inside=inside,
    )

"""Time-bucket aggregate queries, from raw points or from a rollup tier.

Raw without twa/increase is one ``GROUP BY`` with DuckDB's own aggregates (the
hot path the query benchmark measures). Everything else goes through the
partial algebra in ``partials``: a rollup-served query merges the tier's rows
for the whole tier buckets inside ``[start, end)`` with raw partials of the
two unaligned edges, so it answers exactly what the raw path answers.
"""

from __future__ import annotations

from collections.abc import Sequence

from omp.historian.backends.duckdb.partials import (
    bucket_of,
    finalize,
    merge_partials,
    raw_partials,
)
from omp.historian.partial_sql import rollup_union
from omp.historian.partials import fields_for, needs_carry
from omp.historian.types import CARRY_LIMIT, Agg, AggregateQuery, Tier

ROLLUP_TABLES: dict[Tier, str] = {Tier.MINUTE: "rollup_1m", Tier.HOUR: "rollup_1h"}
STATE_TABLES: dict[Tier, str] = {Tier.MINUTE: "state_1m", Tier.HOUR: "state_1h"}
"""Per-state durations of tracked state signals (decision 0017)."""

_DIRECT: dict[Agg, str] = {
    Agg.AVG: "avg(value)",
    Agg.MIN: "min(value)",
    Agg.MAX: "max(value)",
    Agg.COUNT: "count(*)",
    Agg.SUM: "sum(value)",
    Agg.FIRST: "arg_min(value, ts)",
    Agg.LAST: "arg_max(value, ts)",
    Agg.STDDEV: "stddev_samp(value)",
}


def id_list(signal_ids: Sequence[int]) -> str:
    """A SQL ``IN`` list of integer ids (never empty: callers check first)."""
    return ", ".join(str(int(i)) for i in signal_ids)


def raw_source(ids: str, lo: int, hi: int) -> str:
    """Points of ``ids`` in ``[lo, hi)``."""
    return (
        f"SELECT signal_id, ts, value FROM points "
        f"WHERE signal_id IN ({ids}) AND ts >= {int(lo)} AND ts < {int(hi)}"
    )


def carry_source(ids: str, before: int) -> str:
    """The last point of each signal before ``before``, within ``CARRY_LIMIT``."""
    return (
        "SELECT signal_id, max(ts) AS last_ts, arg_max(value, ts) AS last_v FROM points "
        f"WHERE signal_id IN ({ids}) AND ts < {int(before)} "
        f"AND ts >= {int(before) - CARRY_LIMIT} GROUP BY signal_id"
    )


def aggregate_sql(query: AggregateQuery, tier: Tier) -> str:
    """The SQL answering ``query`` from ``tier`` (result layout of ``PointReader.aggregate``)."""
    ids = id_list(query.signal_ids)
    carry = carry_source(ids, query.start) if needs_carry(query.aggs) else None
    if tier is not Tier.RAW:
        partials = _rollup_partials(query, tier, ids)
        if partials is not None:
            return finalize(partials, carry, query)
    if carry is None:
        return _direct(query, ids)
    fields = fields_for(query.aggs)
    partials = raw_partials(raw_source(ids, query.start, query.end), query.every, fields)
    return finalize(partials, carry, query)


def _direct(query: AggregateQuery, ids: str) -> str:
    select = ", ".join(f'{_DIRECT[a]}::DOUBLE AS "{a.value}"' for a in query.aggs)
    return (
        f"SELECT signal_id, {bucket_of('ts', query.every)}::BIGINT AS bucket, {select} "
        f"FROM ({raw_source(ids, query.start, query.end)}) src "
        "GROUP BY ALL ORDER BY signal_id, bucket"
    )


def _rollup_partials(query: AggregateQuery, tier: Tier, ids: str) -> str | None:
    """Output-bucket partials from ``tier`` and raw edges; ``None`` if no tier bucket fits."""
    width = tier.width
    if query.every % width:
        raise ValueError(f"every={query.every}us is not a multiple of the {tier} tier width")
    fields = fields_for(query.aggs)
    columns = ", ".join(("signal_id", "bucket", *fields))
    union = rollup_union(
        start=query.start,
        end=query.end,
        width=width,
        columns=columns,
        tier_rows=lambda lo, hi: (
            f"SELECT {columns} FROM {ROLLUP_TABLES[tier]} WHERE signal_id IN ({ids})"
            f" AND bucket >= {lo} AND bucket < {hi}"
        ),
        edge_partials=lambda lo, hi: raw_partials(raw_source(ids, lo, hi), query.every, fields),
    )
    if union is None:
        return None
    if query.every == width:
        # Each rollup row and each edge is a whole output bucket: nothing to merge.
        return union
    return merge_partials(union, query.every, fields)

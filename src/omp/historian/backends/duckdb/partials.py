"""DuckDB SQL for mergeable partial statistics: the one algebra behind rollups and queries.

The partial fields are catalogued in ``omp.historian.partials``. Three
operations, each a SQL text generator:

* ``raw_partials``: points -> one partial per ``(signal, width-aligned bucket)``;
* ``merge_partials``: time-ordered partials -> one partial per coarser bucket
  (Chan's merge for ``m2``; the gaps between slices feed ``integ`` and ``inc``);
* ``finalize``: partials of output buckets + the carried-in value -> the
  aggregates of ``omp.historian.types.Agg`` (portable arithmetic from
  ``omp.historian.partial_sql``).

Rollup rows are partials, so a rollup-served query is ``merge`` over rollup
rows and raw edge partials, then ``finalize``: the same arithmetic the raw
path does, which is why both give the same answer. Every value spliced into
SQL here is an ``int`` or a name chosen by this module, never user text.
"""

from __future__ import annotations

from omp.historian.partial_sql import Dialect, chain_carry, finalize_sql, merge_sql, step
from omp.historian.partials import CHAINED
from omp.historian.types import Agg, AggregateQuery


def bucket_of(column: str, width: int) -> str:
    """``column`` aligned down to a multiple of ``width`` (timestamps are never negative)."""
    return f"({column} - {column} % {int(width)})"


def raw_partials(source: str, width: int, fields: tuple[str, ...]) -> str:
    """Partials per ``(signal_id, bucket)`` of ``source`` (columns ``signal_id, ts, value``).

    Consecutive points only feed ``integ``/``inc`` when both lie in ``source``
    and in the same bucket.
    """
    w = int(width)
    grp = bucket_of("ts", w)
    exprs = {
        "n": "count(*)",
        "s": "sum(value)",
        "mn": "min(value)",
        "mx": "max(value)",
        "first_ts": "min(ts)",
        "first_v": "arg_min(value, ts)",
        "last_ts": "max(ts)",
        "last_v": "arg_max(value, ts)",
        "m2": "coalesce(var_pop(value), 0) * count(*)",
        "integ": f"sum(CASE WHEN next_ts < grp + {w} THEN value * (next_ts - ts) ELSE 0.0 END)",
        "inc": f"sum(CASE WHEN prev_ts >= grp THEN {step('prev_v', 'value')} ELSE 0.0 END)",
    }
    neighbours = []
    if "integ" in fields:
        neighbours.append("lead(ts) OVER w AS next_ts")
    if "inc" in fields:
        neighbours += ["lag(ts) OVER w AS prev_ts", "lag(value) OVER w AS prev_v"]
    window = "".join(f", {n}" for n in neighbours)
    window_def = " WINDOW w AS (PARTITION BY signal_id ORDER BY ts)" if neighbours else ""
    select = ", ".join(f"{exprs[f]} AS {f}" for f in fields)
    return (
        f"SELECT signal_id, grp AS bucket, {select} FROM ("
        f"SELECT signal_id, ts, value, {grp} AS grp{window} FROM ({source}) src{window_def}"
        ") pts GROUP BY signal_id, grp"
    )


def merge_partials(segments: str, width: int, fields: tuple[str, ...]) -> str:
    """Merge time-ordered, non-overlapping partials into one per ``width``-aligned bucket.

    ``segments`` yields ``signal_id``, ``bucket`` and ``fields``; a segment
    belongs to the ``width`` bucket holding its own ``bucket`` start.
    """
    dialect = {
        "n": "sum(n)::BIGINT",
        "first_v": "arg_min(first_v, first_ts)",
        "last_v": "arg_max(last_v, last_ts)",
    }
    grp = bucket_of("bucket", width)
    return merge_sql(segments, width=width, fields=fields, grp=grp, dialect=dialect, linked=CHAINED)


def finalize(partials: str, carry: str | None, query: AggregateQuery) -> str:
    """Aggregates per ``(signal_id, bucket)`` from output-bucket partials of ``query``.

    ``carry`` yields ``signal_id, last_ts, last_v``: the last point before
    ``start``, chained before the first bucket. Needed only for twa and
    increase; see ``omp.historian.partial_sql.finalize_sql``.
    """
    chained = None
    if carry is not None:
        chained = chain_carry(
            f"SELECT *, false AS is_carry FROM ({partials}) p",
            f"SELECT *, true AS is_carry FROM ({carry}) c",
            union="UNION ALL BY NAME",
        )
    return finalize_sql(partials, chained, query, DIALECT)


def _head(bucket: str) -> str:
    return f"SELECT signal_id::INTEGER AS signal_id, {bucket}::BIGINT AS bucket"


def _cast(agg: Agg, expr: str) -> str:
    return f'({expr})::DOUBLE AS "{agg.value}"'


def expand(source: str, lo: str, hi: str, every: int) -> str:
    """Each row of ``source`` once per ``gap`` in ``range(lo, hi, every)`` (none if empty)."""
    return f"SELECT *, unnest(range({lo}, {hi}, {int(every)})) AS gap FROM {source}"


DIALECT = Dialect(head=_head, cast=_cast, expand=expand)

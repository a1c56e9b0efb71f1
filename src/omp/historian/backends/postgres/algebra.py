"""SQL text for mergeable partials: raw points -> partials -> coarser partials -> aggregates.

The partial columns (``n, s, mn, mx, first_ts, first_v, last_ts, last_v, m2,
integ, inc``) are described in ``omp.historian.partials``; rollup rows are partials, so a
rollup-served query and a raw query run the same arithmetic. Every value
spliced into the SQL here is an ``int`` or a quoted identifier made by this
package, never caller text.

``points.ts`` is timestamptz: raw partials bucket it with ``date_bin`` and
convert only per-bucket results to int8 microseconds.
"""

from __future__ import annotations

from collections.abc import Iterable

from omp.historian.backends.postgres.sqltext import us
from omp.historian.partial_sql import Dialect, chain_carry, finalize_sql, merge_sql, step
from omp.historian.partials import CHAINED, fields_for
from omp.historian.types import Agg, AggregateQuery

# PostgreSQL has no arg_min: first_v and last_v are picked by each point's
# neighbours (a window), so they chain like integ and inc and need the ends.
_CHAIN = CHAINED | {"first_v", "last_v"}


def pg_fields_for(aggs: Iterable[Agg]) -> tuple[str, ...]:
    """The partial fields PostgreSQL's SQL needs for ``aggs`` (see ``_CHAIN``)."""
    return fields_for(aggs, linked=_CHAIN)


def needs_chain(aggs: Iterable[Agg]) -> bool:
    """Whether answering ``aggs`` from raw needs each point's neighbours."""
    return bool(set(pg_fields_for(aggs)) & _CHAIN)


def stride(width: int) -> str:
    return f"interval '{int(width)} microseconds'"


def floor_int(column: str, width: int) -> str:
    """``column`` (int8) aligned down to a multiple of ``width``, also below zero."""
    w = int(width)
    return f"({column} - ((({column}) % {w}) + {w}) % {w})"


def raw_partials(source: str, width: int, fields: tuple[str, ...]) -> str:
    """Partials per ``(signal_id, bucket)`` of ``source`` (columns ``signal_id, ts, value``).

    Consecutive points only feed ``integ``/``inc`` when both lie in ``source``
    and in the same bucket.
    """
    end = f"(grp + {stride(width)})"
    exprs = {
        "n": "count(*)::int8",
        "s": "sum(value)",
        "mn": "min(value)",
        "mx": "max(value)",
        "first_ts": us("min(ts)"),
        "first_v": "max(value) FILTER (WHERE prev_ts IS NULL OR prev_ts < grp)",
        "last_ts": us("max(ts)"),
        "last_v": f"max(value) FILTER (WHERE next_ts IS NULL OR next_ts >= {end})",
        "m2": "coalesce(var_pop(value), 0) * count(*)",
        "integ": (
            "coalesce(sum(value * (date_part('epoch', next_ts - ts) * 1000000))"
            f" FILTER (WHERE next_ts < {end}), 0)"
        ),
        "inc": f"coalesce(sum({step('prev_v', 'value')}) FILTER (WHERE prev_ts >= grp), 0)",
    }
    chain = bool(set(fields) & _CHAIN)
    window = (
        ", lead(ts) OVER w AS next_ts, lag(ts) OVER w AS prev_ts, lag(value) OVER w AS prev_v"
        if chain
        else ""
    )
    window_def = " WINDOW w AS (PARTITION BY signal_id ORDER BY ts)" if chain else ""
    select = ", ".join(f"{exprs[f]} AS {f}" for f in fields)
    return (
        f"SELECT signal_id, {us('grp')} AS bucket, {select} FROM ("
        f"SELECT signal_id, ts, value, date_bin({stride(width)}, ts, 'epoch') AS grp{window}"
        f" FROM ({source}) src{window_def}) pts GROUP BY signal_id, grp"
    )


def merge_partials(segments: str, width: int, fields: tuple[str, ...]) -> str:
    """Merge time-ordered, non-overlapping partials into one per ``width``-aligned bucket.

    ``segments`` yields ``signal_id``, ``bucket`` and ``fields``; a segment
    belongs to the ``width``-aligned bucket its own ``bucket`` falls in, so
    segment buckets must be aligned to a divisor of ``width``.
    """
    w = int(width)
    dialect = {
        "n": "sum(n)::int8",
        "first_v": "max(first_v) FILTER (WHERE prev_last_ts IS NULL OR prev_last_ts < grp)",
        "last_v": f"max(last_v) FILTER (WHERE next_first_ts IS NULL OR next_first_ts >= grp + {w})",
    }
    grp = floor_int("bucket", w)
    return merge_sql(segments, width=w, fields=fields, grp=grp, dialect=dialect, linked=_CHAIN)


def finalize(partials: str, carry: str | None, query: AggregateQuery) -> str:
    """Aggregates per ``(signal_id, bucket)`` from output-bucket partials of ``query``.

    ``carry`` yields ``signal_id, last_ts, last_v``: the last point before
    ``start``, chained before the first bucket. Needed only for twa and
    increase; see ``omp.historian.partial_sql.finalize_sql``.
    """
    chained = None
    if carry is not None:
        fields = pg_fields_for(query.aggs)
        columns = ", ".join(["signal_id", "bucket", *fields])
        carry_columns = ", ".join(
            ["signal_id", "NULL::int8 AS bucket"]
            + [f if f in ("last_ts", "last_v") else f"NULL AS {f}" for f in fields]
        )
        chained = chain_carry(
            f"SELECT {columns}, false AS is_carry FROM ({partials}) p",
            f"SELECT {carry_columns}, true AS is_carry FROM ({carry}) c",
        )
    return finalize_sql(partials, chained, query, DIALECT)


def _head(bucket: str) -> str:
    return f"SELECT signal_id::int4 AS signal_id, {bucket}::int8 AS bucket"


def _cast(agg: Agg, expr: str) -> str:
    return f"({expr})::float8 AS {agg.value}"


def expand(source: str, lo: str, hi: str, every: int) -> str:
    """Each row of ``source`` once per ``gap`` in ``[lo, hi)`` stepping by ``every``."""
    return (
        f"SELECT s.*, g.gap FROM {source} s CROSS JOIN LATERAL"
        f" generate_series(({lo})::int8, ({hi})::int8 - 1, {int(every)}::int8) AS g(gap)"
    )


DIALECT = Dialect(head=_head, cast=_cast, expand=expand)

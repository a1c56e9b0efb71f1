"""Portable SQL of the partial algebra: the parts DuckDB and PostgreSQL spell alike.

Both backends splice these expressions into their own dialect's queries
(grouping, windows, casts and unions stay in the backend). Every value spliced
here is an ``int`` or a column name chosen by the backend, never caller text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from omp.historian.planner import tier_split
from omp.historian.types import CARRY_LIMIT, Agg, AggregateQuery


def step(prev: str, cur: str) -> str:
    """Counter increase from ``prev`` to ``cur``: a decrease is a reset from zero."""
    return f"(CASE WHEN {cur} >= {prev} THEN {cur} - {prev} ELSE {cur} END)"


def final_exprs(*, start: int, end: int, every: int) -> dict[Agg, str]:
    """Each aggregate of a bucket holding points, from its partial and the previous point.

    The row has the output bucket's partial columns plus ``prev_ts``/``prev_v``,
    the last point before the bucket (``NULL`` when none); it counts as the
    carried-in value only within ``CARRY_LIMIT`` of the bucket's clipped start.
    """
    es = f"greatest(bucket, {int(start)})"
    ee = f"least(bucket + {int(every)}, {int(end)})"
    hc = f"(prev_ts IS NOT NULL AND prev_ts >= {es} - {int(CARRY_LIMIT)})"
    return {
        Agg.AVG: "s / n",
        Agg.MIN: "mn",
        Agg.MAX: "mx",
        Agg.COUNT: "n",
        Agg.SUM: "s",
        Agg.FIRST: "first_v",
        Agg.LAST: "last_v",
        Agg.STDDEV: "CASE WHEN n > 1 THEN sqrt(greatest(m2, 0) / (n - 1)) END",
        Agg.TWA: (
            f"(integ + last_v * ({ee} - last_ts) + CASE WHEN {hc}"
            f" THEN prev_v * (first_ts - {es}) ELSE 0.0 END)"
            f" / ({ee} - CASE WHEN {hc} THEN {es} ELSE first_ts END)"
        ),
        Agg.INCREASE: f"inc + CASE WHEN {hc} THEN {step('prev_v', 'first_v')} ELSE 0.0 END",
    }


GAP_EXPRS: dict[Agg, str] = {
    Agg.TWA: "last_v",
    Agg.COUNT: "0",
    Agg.INCREASE: "0",
}
"""Aggregates of a bucket with no point but a carried-in value ``last_v`` (decision 0016).

The value holds through the bucket, so twa is that value; no point means
count 0 and no increase. Every other aggregate describes points and is
``NULL``.
"""


def gap_expr(agg: Agg) -> str:
    """The aggregate ``agg`` of a covered bucket without points (see ``GAP_EXPRS``)."""
    return GAP_EXPRS.get(agg, "NULL")


def gap_range(*, start: int, end: int, every: int, horizon: int | None = None) -> tuple[str, str]:
    """Bounds ``[lo, hi)`` of the empty buckets a chained row's last point covers.

    The row has ``bucket`` (``NULL`` for the carry row, the last point before
    ``start``), ``next_bucket`` (the next bucket with points, ``NULL`` when
    none) and ``last_ts``. Its last point is in force from the bucket after
    its own (for the carry row: the bucket holding ``start``) up to the next
    bucket with points, for buckets whose clipped start lies before ``end``
    and ``horizon`` (``now``: the future is not known) and within
    ``CARRY_LIMIT`` of it. Bucket starts in ``[lo, hi)`` stepping by
    ``every`` are exactly those buckets.
    """
    first = int(start) - int(start) % int(every)
    until = int(end) if horizon is None else min(int(end), int(horizon))
    if until <= int(start):
        until = first  # an empty range: no bucket starts (clipped) before ``until``
    lo = f"coalesce(bucket + {int(every)}, {first})"
    hi = f"least(coalesce(next_bucket, {until}), {until}, last_ts + {int(CARRY_LIMIT) + 1})"
    return lo, hi


def merge_sql(
    segments: str,
    *,
    width: int,
    fields: tuple[str, ...],
    grp: str,
    dialect: dict[str, str],
    linked: frozenset[str],
) -> str:
    """Merge time-ordered, non-overlapping partials into one per ``width``-aligned bucket.

    ``segments`` yields ``signal_id``, ``bucket`` and ``fields``; a segment
    belongs to the ``width`` bucket ``grp`` (an expression of ``bucket``) puts
    it in. ``dialect`` spells ``n``, ``first_v`` and ``last_v`` (they need
    ``arg_min`` or a window filter); ``linked`` are the fields that need the
    neighbouring segments' ends (Chan's merge for ``m2``; the gaps between
    segments feed ``integ`` and ``inc``).
    """
    w = int(width)
    exprs = {
        "s": "sum(s)",
        "mn": "min(mn)",
        "mx": "max(mx)",
        "first_ts": "min(first_ts)",
        "last_ts": "max(last_ts)",
        "m2": "sum(m2 + n * power(s / n - gmean, 2))",
        "integ": (
            f"sum(integ + CASE WHEN next_first_ts < grp + {w}"
            " THEN last_v * (next_first_ts - last_ts) ELSE 0.0 END)"
        ),
        "inc": (
            "sum(inc + CASE WHEN prev_last_ts >= grp"
            f" THEN {step('prev_last_v', 'first_v')} ELSE 0.0 END)"
        ),
        **dialect,
    }
    extra: list[str] = []
    windows: list[str] = []
    if set(fields) & linked:
        extra += [
            "lead(first_ts) OVER w AS next_first_ts",
            "lag(last_ts) OVER w AS prev_last_ts",
            "lag(last_v) OVER w AS prev_last_v",
        ]
        windows.append("w AS (PARTITION BY signal_id ORDER BY first_ts)")
    if "m2" in fields:
        extra.append("sum(s) OVER g / sum(n) OVER g AS gmean")
        windows.append("g AS (PARTITION BY signal_id, grp)")
    inner = ", ".join(["signal_id", f"{grp} AS grp", *fields])
    window_def = f" WINDOW {', '.join(windows)}" if windows else ""
    extra_cols = "".join(f", {e}" for e in extra)
    select = ", ".join(f"{exprs[f]} AS {f}" for f in fields)
    return (
        f"SELECT signal_id, grp AS bucket, {select} FROM ("
        f"SELECT *{extra_cols} FROM (SELECT {inner} FROM ({segments}) seg) seg2{window_def}"
        ") chained GROUP BY signal_id, grp"
    )


def rollup_union(
    *,
    start: int,
    end: int,
    width: int,
    columns: str,
    tier_rows: Callable[[int, int], str],
    edge_partials: Callable[[int, int], str],
) -> str | None:
    """Partials covering ``[start, end)`` from a ``width`` tier: its rows plus raw edges.

    ``tier_rows(lo, hi)`` selects the tier's rows with buckets in ``[lo, hi)``,
    ``edge_partials(lo, hi)`` raw partials of the points in ``[lo, hi)``; both
    yield ``columns``. ``None`` when no whole tier bucket fits in the range.
    """
    inner_start, inner_end, edges = tier_split(start, end, width)
    if inner_start >= inner_end:
        return None
    segments = [f"SELECT {columns} FROM ({tier_rows(inner_start, inner_end)}) t"]
    segments += [f"SELECT {columns} FROM ({edge_partials(lo, hi)}) e" for lo, hi in edges]
    return " UNION ALL ".join(segments)


Expand = Callable[[str, str, str, int], str]
"""``expand(source, lo, hi, every)``: ``source``'s rows, each repeated once per
``gap`` in ``range(lo, hi, every)`` (``lo``/``hi`` are expressions over the row)."""


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one SQL dialect spells the parts of the final select that differ."""

    head: Callable[[str], str]
    """``head(column)``: the start of a select of ``signal_id`` and ``column`` as ``bucket``."""
    cast: Callable[[Agg, str], str]
    """``cast(agg, expr)``: one aggregate column, typed and named."""
    expand: Expand


def chain_carry(buckets: str, carry: str, *, union: str = "UNION ALL") -> str:
    """Bucket partials and carry rows of each signal in time order, with their neighbours.

    ``buckets`` and ``carry`` are SELECTs that add ``is_carry`` (false and
    true); ``union`` is how the dialect unites them. Each row gains the
    previous row's ``last_ts``/``last_v`` and the next row's ``bucket``.
    """
    return (
        "SELECT *, lag(last_ts) OVER w AS prev_ts, lag(last_v) OVER w AS prev_v,"
        f" lead(bucket) OVER w AS next_bucket FROM ({buckets} {union} {carry}) u"
        " WINDOW w AS (PARTITION BY signal_id ORDER BY last_ts)"
    )


def finalize_sql(
    partials: str, chained: str | None, query: AggregateQuery, dialect: Dialect
) -> str:
    """Aggregates per ``(signal_id, bucket)`` from output-bucket partials.

    Without the carried-in value (``chained`` is ``None``) each bucket's
    partial alone answers. Otherwise ``chained`` yields each bucket's partial
    (``is_carry`` false) and each signal's carry row (``is_carry`` true,
    ``bucket`` null: the last point before ``start``), ordered per signal by
    ``last_ts``, with ``prev_ts``/``prev_v`` (the previous row's last point)
    and ``next_bucket`` (the next row's bucket). With twa, the empty buckets a
    last point still covers get a row of their own (``GAP_EXPRS``), starting
    before ``min(end, now)``.
    """
    exprs = final_exprs(start=query.start, end=query.end, every=query.every)
    select = ", ".join(dialect.cast(a, exprs[a]) for a in query.aggs)
    if chained is None:
        return f"{dialect.head('bucket')}, {select} FROM ({partials}) p ORDER BY signal_id, bucket"
    body = f"{dialect.head('bucket')}, {select} FROM x WHERE NOT is_carry"
    if Agg.TWA in query.aggs:
        lo, hi = gap_range(start=query.start, end=query.end, every=query.every, horizon=query.now)
        gaps = ", ".join(dialect.cast(a, gap_expr(a)) for a in query.aggs)
        expanded = dialect.expand("x", lo, hi, query.every)
        body += f" UNION ALL {dialect.head('gap')}, {gaps} FROM ({expanded}) g"
    return f"WITH x AS ({chained}) {body} ORDER BY signal_id, bucket"

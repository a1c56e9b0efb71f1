"""SQL text for mergeable partials: raw points -> partials -> coarser partials -> aggregates.

The partial columns (``n, s, mn, mx, first_ts, first_v, last_ts, last_v, m2,
integ, inc``) are described in ``partials``; rollup rows are partials, so a
rollup-served query and a raw query run the same arithmetic. Every value
spliced into the SQL here is an ``int`` or a quoted identifier made by this
package, never caller text.

``points.ts`` is timestamptz: raw partials bucket it with ``date_bin`` and
convert only per-bucket results to int8 microseconds.
"""

from __future__ import annotations

from collections.abc import Iterable

from omp.historian.backends.postgres.sqltext import us
from omp.historian.types import CARRY_LIMIT, Agg

ALL_FIELDS: tuple[str, ...] = (
    "n",
    "s",
    "mn",
    "mx",
    "first_ts",
    "first_v",
    "last_ts",
    "last_v",
    "m2",
    "integ",
    "inc",
)

_NEEDS: dict[Agg, frozenset[str]] = {
    Agg.AVG: frozenset({"s"}),
    Agg.MIN: frozenset({"mn"}),
    Agg.MAX: frozenset({"mx"}),
    Agg.COUNT: frozenset(),
    Agg.SUM: frozenset({"s"}),
    Agg.FIRST: frozenset({"first_ts", "first_v"}),
    Agg.LAST: frozenset({"last_ts", "last_v"}),
    Agg.STDDEV: frozenset({"s", "m2"}),
    Agg.TWA: frozenset({"integ"}),
    Agg.INCREASE: frozenset({"inc"}),
}
# Fields that need each point's neighbours (a window over the signal's points).
_CHAIN = frozenset({"first_v", "last_v", "integ", "inc"})
_ENDS = ("first_ts", "first_v", "last_ts", "last_v")


def fields_for(aggs: Iterable[Agg]) -> tuple[str, ...]:
    """The partial fields needed to answer ``aggs``, in storage order (``n`` always)."""
    wanted: set[str] = {"n"}
    for agg in aggs:
        wanted |= _NEEDS[agg]
    if wanted & _CHAIN:
        wanted |= set(_ENDS)
    return tuple(f for f in ALL_FIELDS if f in wanted)


def needs_carry(aggs: Iterable[Agg]) -> bool:
    """Whether any of ``aggs`` depends on the value in force before a bucket."""
    return any(a in (Agg.TWA, Agg.INCREASE) for a in aggs)


def needs_chain(aggs: Iterable[Agg]) -> bool:
    """Whether answering ``aggs`` from raw needs each point's neighbours."""
    return bool(set(fields_for(aggs)) & _CHAIN)


def stride(width: int) -> str:
    return f"interval '{int(width)} microseconds'"


def floor_int(column: str, width: int) -> str:
    """``column`` (int8) aligned down to a multiple of ``width``, also below zero."""
    w = int(width)
    return f"({column} - ((({column}) % {w}) + {w}) % {w})"


def step(prev: str, cur: str) -> str:
    """Counter increase from ``prev`` to ``cur``: a decrease is a reset from zero."""
    return f"(CASE WHEN {cur} >= {prev} THEN {cur} - {prev} ELSE {cur} END)"


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
    exprs = {
        "n": "sum(n)::int8",
        "s": "sum(s)",
        "mn": "min(mn)",
        "mx": "max(mx)",
        "first_ts": "min(first_ts)",
        "first_v": "max(first_v) FILTER (WHERE prev_last_ts IS NULL OR prev_last_ts < grp)",
        "last_ts": "max(last_ts)",
        "last_v": f"max(last_v) FILTER (WHERE next_first_ts IS NULL OR next_first_ts >= grp + {w})",
        "m2": "sum(m2 + n * power(s / n - gmean, 2))",
        "integ": (
            f"sum(integ + CASE WHEN next_first_ts < grp + {w}"
            " THEN last_v * (next_first_ts - last_ts) ELSE 0.0 END)"
        ),
        "inc": (
            "sum(inc + CASE WHEN prev_last_ts >= grp"
            f" THEN {step('prev_last_v', 'first_v')} ELSE 0.0 END)"
        ),
    }
    chain = bool(set(fields) & _CHAIN)
    extra: list[str] = []
    windows: list[str] = []
    if chain:
        extra += [
            "lead(first_ts) OVER w AS next_first_ts",
            "lag(last_ts) OVER w AS prev_last_ts",
            "lag(last_v) OVER w AS prev_last_v",
        ]
        windows.append("w AS (PARTITION BY signal_id ORDER BY first_ts)")
    if "m2" in fields:
        extra.append("sum(s) OVER g / sum(n) OVER g AS gmean")
        windows.append("g AS (PARTITION BY signal_id, grp)")
    inner = ", ".join(["signal_id", f"{floor_int('bucket', w)} AS grp", *fields])
    window_def = f" WINDOW {', '.join(windows)}" if windows else ""
    extra_cols = "".join(f", {e}" for e in extra)
    select = ", ".join(f"{exprs[f]} AS {f}" for f in fields)
    return (
        f"SELECT signal_id, grp AS bucket, {select} FROM ("
        f"SELECT *{extra_cols} FROM (SELECT {inner} FROM ({segments}) seg) seg2{window_def}"
        ") chained GROUP BY signal_id, grp"
    )


def finalize(
    partials: str,
    carry: str | None,
    *,
    aggs: tuple[Agg, ...],
    start: int,
    end: int,
    every: int,
) -> str:
    """Aggregates per ``(signal_id, bucket)`` from output-bucket partials.

    ``carry`` yields ``signal_id, last_ts, last_v``: the last point before
    ``start``. Each bucket's carried-in value is the previous bucket's last
    point, or the carry row, if it lies within ``CARRY_LIMIT`` of the bucket's
    clipped start. Needed only for twa and increase.
    """
    es = f"greatest(bucket, {int(start)})"
    ee = f"least(bucket + {int(every)}, {int(end)})"
    hc = f"(prev_ts IS NOT NULL AND prev_ts >= {es} - {int(CARRY_LIMIT)})"
    exprs = {
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
    select = ", ".join(f"({exprs[a]})::float8 AS {a.value}" for a in aggs)
    head = "SELECT signal_id::int4 AS signal_id, bucket::int8 AS bucket"
    if carry is None:
        return f"{head}, {select} FROM ({partials}) p ORDER BY signal_id, bucket"
    fields = fields_for(aggs)
    columns = ", ".join(["signal_id", "bucket", *fields])
    carry_columns = ", ".join(
        ["signal_id", "NULL::int8 AS bucket"]
        + [f if f in ("last_ts", "last_v") else f"NULL AS {f}" for f in fields]
    )
    chained = (
        "SELECT *, lag(last_ts) OVER w AS prev_ts, lag(last_v) OVER w AS prev_v FROM ("
        f"SELECT {columns}, false AS is_carry FROM ({partials}) p"
        f" UNION ALL SELECT {carry_columns}, true AS is_carry FROM ({carry}) c"
        ") u WINDOW w AS (PARTITION BY signal_id ORDER BY last_ts)"
    )
    return f"{head}, {select} FROM ({chained}) x WHERE NOT is_carry ORDER BY signal_id, bucket"

"""SQL for mergeable partial statistics: the one algebra behind rollups and queries.

A *partial* summarises the points of one signal in one time slice: ``n``,
``s`` (sum), ``mn``/``mx``, ``first_ts``/``first_v``, ``last_ts``/``last_v``,
``m2`` (sum of squared deviations from the slice mean), ``integ`` (the step
integral between the slice's first and last point) and ``inc`` (the counter
increase between the slice's first and last point, resets included).

Three operations, each a SQL text generator:

* ``raw_partials``: points -> one partial per ``(signal, width-aligned bucket)``;
* ``merge_partials``: time-ordered partials -> one partial per coarser bucket
  (Chan's merge for ``m2``; the gaps between slices feed ``integ`` and ``inc``);
* ``finalize``: partials of output buckets + the carried-in value -> the
  aggregates of ``omp.historian.types.Agg``.

Rollup rows are partials, so a rollup-served query is ``merge`` over rollup
rows and raw edge partials, then ``finalize``: the same arithmetic the raw
path does, which is why both give the same answer. Every value spliced into
SQL here is an ``int`` or a name chosen by this module, never user text.
"""

from __future__ import annotations

from collections.abc import Iterable

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
    Agg.TWA: frozenset({"integ", "first_ts", "first_v", "last_ts", "last_v"}),
    Agg.INCREASE: frozenset({"inc", "first_ts", "first_v", "last_ts", "last_v"}),
}
_CHAIN = frozenset({"integ", "inc"})


def fields_for(aggs: Iterable[Agg]) -> tuple[str, ...]:
    """The partial fields needed to answer ``aggs``, in storage order (``n`` always)."""
    wanted: set[str] = {"n"}
    for agg in aggs:
        wanted |= _NEEDS[agg]
    if wanted & _CHAIN:
        wanted |= {"first_ts", "first_v", "last_ts", "last_v"}
    return tuple(f for f in ALL_FIELDS if f in wanted)


def needs_carry(aggs: Iterable[Agg]) -> bool:
    """Whether any of ``aggs`` depends on the value in force before a bucket."""
    return any(a in (Agg.TWA, Agg.INCREASE) for a in aggs)


def bucket_of(column: str, width: int) -> str:
    """``column`` aligned down to a multiple of ``width`` (timestamps are never negative)."""
    return f"({column} - {column} % {int(width)})"


def _step(prev: str, cur: str) -> str:
    """Counter increase from ``prev`` to ``cur``: a decrease is a reset from zero."""
    return f"(CASE WHEN {cur} >= {prev} THEN {cur} - {prev} ELSE {cur} END)"


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
        "inc": f"sum(CASE WHEN prev_ts >= grp THEN {_step('prev_v', 'value')} ELSE 0.0 END)",
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
    w = int(width)
    exprs = {
        "n": "sum(n)::BIGINT",
        "s": "sum(s)",
        "mn": "min(mn)",
        "mx": "max(mx)",
        "first_ts": "min(first_ts)",
        "first_v": "arg_min(first_v, first_ts)",
        "last_ts": "max(last_ts)",
        "last_v": "arg_max(last_v, last_ts)",
        "m2": "sum(m2 + n * power(s / n - gmean, 2))",
        "integ": (
            f"sum(integ + CASE WHEN next_first_ts < grp + {w} "
            "THEN last_v * (next_first_ts - last_ts) ELSE 0.0 END)"
        ),
        "inc": (
            "sum(inc + CASE WHEN prev_last_ts >= grp "
            f"THEN {_step('prev_last_v', 'first_v')} ELSE 0.0 END)"
        ),
    }
    extra = []
    if set(fields) & _CHAIN:
        extra += [
            "lead(first_ts) OVER w AS next_first_ts",
            "lag(last_ts) OVER w AS prev_last_ts",
            "lag(last_v) OVER w AS prev_last_v",
        ]
    if "m2" in fields:
        extra.append("sum(s) OVER g / sum(n) OVER g AS gmean")
    windows = []
    if set(fields) & _CHAIN:
        windows.append("w AS (PARTITION BY signal_id ORDER BY first_ts)")
    if "m2" in fields:
        windows.append("g AS (PARTITION BY signal_id, grp)")
    select = ", ".join(f"{exprs[f]} AS {f}" for f in fields)
    inner_cols = ", ".join(["signal_id", f"{bucket_of('bucket', w)} AS grp", *fields])
    window_def = f" WINDOW {', '.join(windows)}" if windows else ""
    extra_cols = "".join(f", {e}" for e in extra)
    return (
        f"SELECT signal_id, grp AS bucket, {select} FROM ("
        f"SELECT *{extra_cols} FROM (SELECT {inner_cols} FROM ({segments}) seg) seg2{window_def}"
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
    ``start`` (it is chained before the first bucket). Needed only for twa and
    increase; each bucket's carried-in value is the previous bucket's last
    point, or the carry row, if it lies within ``CARRY_LIMIT``.
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
            f"(integ + last_v * ({ee} - last_ts) + CASE WHEN {hc} "
            f"THEN prev_v * (first_ts - {es}) ELSE 0.0 END) "
            f"/ ({ee} - CASE WHEN {hc} THEN {es} ELSE first_ts END)"
        ),
        Agg.INCREASE: f"inc + CASE WHEN {hc} THEN {_step('prev_v', 'first_v')} ELSE 0.0 END",
    }
    select = ", ".join(f'({exprs[a]})::DOUBLE AS "{a.value}"' for a in aggs)
    head = "SELECT signal_id::INTEGER AS signal_id, bucket::BIGINT AS bucket"
    if carry is None:
        return f"{head}, {select} FROM ({partials}) p ORDER BY signal_id, bucket"
    chained = (
        f"SELECT *, lag(last_ts) OVER w AS prev_ts, lag(last_v) OVER w AS prev_v FROM ("
        f"SELECT *, false AS is_carry FROM ({partials}) p "
        f"UNION ALL BY NAME SELECT *, true AS is_carry FROM ({carry}) c"
        ") u WINDOW w AS (PARTITION BY signal_id ORDER BY last_ts)"
    )
    return f"{head}, {select} FROM ({chained}) x WHERE NOT is_carry ORDER BY signal_id, bucket"

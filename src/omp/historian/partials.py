"""The partial algebra's catalogue: which mergeable statistics exist, and who needs which.

A *partial* summarises the points of one signal in one time slice:

* ``n``, ``s`` (sum), ``mn``/``mx``;
* ``first_ts``/``first_v`` and ``last_ts``/``last_v``: the earliest and latest point;
* ``m2``: the sum of squared deviations from the slice mean (Chan's merge gives the
  sample stddev of merged slices);
* ``integ``: the step integral between the slice's own points,
  ``sum v[i] * (t[i+1] - t[i])`` (value times microseconds); the span before the
  first and after the last point is added when the carried-in value and the
  query edges are known;
* ``inc``: the counter increase between the slice's own points, a decrease
  counting as a reset; the step from the carried-in value is added likewise.

Rollup rows of both backends store exactly these columns in this order, so a
rollup-served answer and a raw answer run the same arithmetic (decision 0004).
The SQL that computes and merges partials is dialect-specific and lives in each
backend; the numpy form is ``omp.historian.numpy_partials``; the portable SQL
that turns output-bucket partials into aggregates is ``omp.historian.partial_sql``.

>>> fields_for([Agg.AVG])
('n', 's')
>>> fields_for([Agg.TWA])
('n', 'first_ts', 'first_v', 'last_ts', 'last_v', 'integ')
"""

from __future__ import annotations

from collections.abc import Iterable

from omp.historian.types import Agg

FIELDS: tuple[str, ...] = (
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
"""The partial columns, in rollup table order (after ``signal_id, bucket``)."""

INTEGER_FIELDS: frozenset[str] = frozenset({"n", "first_ts", "last_ts"})
"""Fields stored as 64-bit integers (a count and two timestamps); the rest are float64."""

ENDS: tuple[str, ...] = ("first_ts", "first_v", "last_ts", "last_v")
"""The slice's first and last point: what chains one slice to its neighbours."""

CHAINED: frozenset[str] = frozenset({"integ", "inc"})
"""Fields whose merge needs the neighbouring slices' ends (the gap between them)."""

NEEDS: dict[Agg, frozenset[str]] = {
    Agg.AVG: frozenset({"s"}),
    Agg.MIN: frozenset({"mn"}),
    Agg.MAX: frozenset({"mx"}),
    Agg.COUNT: frozenset(),
    Agg.SUM: frozenset({"s"}),
    Agg.FIRST: frozenset({"first_ts", "first_v"}),
    Agg.LAST: frozenset({"last_ts", "last_v"}),
    Agg.STDDEV: frozenset({"s", "m2"}),
    Agg.TWA: frozenset({"integ", *ENDS}),
    Agg.INCREASE: frozenset({"inc", *ENDS}),
}
"""The partial fields each aggregate is finalised from."""

CARRIED: frozenset[Agg] = frozenset({Agg.TWA, Agg.INCREASE})
"""Aggregates that depend on the value in force when a bucket starts."""


def fields_for(aggs: Iterable[Agg], *, linked: frozenset[str] = CHAINED) -> tuple[str, ...]:
    """The partial fields needed to answer ``aggs``, in storage order (``n`` always).

    When any wanted field is in ``linked``, the four ``ENDS`` come along: a
    backend whose SQL derives more fields from neighbouring points (PostgreSQL
    picks ``first_v`` by window, not by ``arg_min``) widens ``linked``.
    """
    wanted: set[str] = {"n"}
    for agg in aggs:
        wanted |= NEEDS[agg]
    if wanted & linked:
        wanted |= set(ENDS)
    return tuple(f for f in FIELDS if f in wanted)


def needs_carry(aggs: Iterable[Agg]) -> bool:
    """Whether any of ``aggs`` depends on the value in force before a bucket."""
    return any(a in CARRIED for a in aggs)

"""Query and result types shared by the historian service and its backends.

Semantics every backend must honour (the conformance suite in
``tests/integration/historian/`` checks each of them):

* **Identity.** A point is identified by ``(signal_id, ts)``. Writing an
  identity that is already stored is a no-op: the first write wins, so a
  replay after a crash never duplicates and never rewrites history. Within
  one batch, the first occurrence wins.
* **Buckets** are aligned to multiples of ``every`` counted from the Unix
  epoch (UTC), ``[bucket, bucket + every)``. Points outside ``[start, end)``
  never contribute, except as the carried-in value described next.
* **Which buckets appear** (decision 0016). Point aggregates (``avg``, ``min``,
  ``max``, ``count``, ``sum``, ``first``, ``last``, ``stddev``, ``increase``)
  appear for buckets holding at least one point in ``[start, end)``. ``twa``
  also appears for every bucket without a point that has a carried-in value
  and starts (clipped to ``start``) before ``min(end, now)``: the value holds,
  so twa is that value. In such a row ``count`` and
  ``increase`` are 0 and the other point aggregates null. Time in state
  appears for every bucket of ``[start, min(end, now))`` in which a state is
  in force, with or without a point in it.
* **Carried-in value.** ``twa``, ``increase`` and state durations need the
  value in force when a bucket starts: that is the last point before it
  (also from before ``start``), within ``CARRY_LIMIT``.
* **Time-weighted average** (``twa``) holds each value until the next point
  (step interpolation). Per bucket: the integral over ``[max(bucket, start),
  min(bucket + every, end))`` divided by the covered time; the span before the
  first point is covered by the carried-in value, or left out when there is none.
* **Counter increase** (``increase``) sums ``v[i] - v[i-1]`` over consecutive
  points; a decrease is a counter reset, and then ``v[i]`` counts as the
  increase (the counter restarted from zero). The step from the carried-in
  value to the bucket's first point belongs to the bucket.
* **Time in state**: each state code holds from its point until the next
  point, clipped to the bucket and to ``[start, min(end, now))``; it counts
  in a bucket only if its point lies within ``CARRY_LIMIT`` of the bucket's
  clipped start.
* ``stddev`` is the sample standard deviation (n - 1); null for one point.
* ``first``/``last`` are the values at the earliest/latest timestamp.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from enum import StrEnum

from omp.core.events import EventKind
from omp.core.time import US_PER_DAY, US_PER_HOUR, US_PER_MINUTE, Micros

CARRY_LIMIT: Micros = 7 * US_PER_DAY
"""How far back a bucket looks for the value in force at its start."""


class Agg(StrEnum):
    """Time-bucket aggregates. The result column is named by the value."""

    AVG = "avg"
    TWA = "twa"
    MIN = "min"
    MAX = "max"
    COUNT = "count"
    SUM = "sum"
    FIRST = "first"
    LAST = "last"
    STDDEV = "stddev"
    INCREASE = "increase"


class Tier(StrEnum):
    """Storage tiers. Rollup tiers are maintained by the writer as data arrives."""

    RAW = "raw"
    MINUTE = "1m"
    HOUR = "1h"

    @property
    def width(self) -> Micros:
        """Bucket width of a rollup tier; 0 for raw."""
        return _WIDTHS[self]


_WIDTHS: dict[Tier, Micros] = {Tier.RAW: 0, Tier.MINUTE: US_PER_MINUTE, Tier.HOUR: US_PER_HOUR}
ROLLUP_TIERS: tuple[Tier, ...] = (Tier.MINUTE, Tier.HOUR)


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the next page of a raw read starts: after ``(ts, signal_id)``."""

    ts: Micros
    signal_id: int


@dataclass(frozen=True, slots=True)
class RawQuery:
    """Raw points of some signals in ``[start, end)``, ordered by ``(ts, signal_id)``."""

    signal_ids: tuple[int, ...]
    start: Micros
    end: Micros
    limit: int = 10_000
    after: Cursor | None = None


@dataclass(frozen=True, slots=True)
class AggregateQuery:
    """Time-bucket aggregates of numeric signals."""

    signal_ids: tuple[int, ...]
    start: Micros
    end: Micros
    every: Micros
    aggs: tuple[Agg, ...]
    tier: Tier | None = None
    """Force a tier (``Tier.RAW`` to bypass rollups); ``None`` lets the planner choose."""
    now: Micros | None = None
    """twa lists buckets without points only where they start before ``now`` (the future
    is not known); ``None`` bounds them by ``end`` alone. ``Historian.aggregate`` fills
    it from its clock when left ``None``."""


@dataclass(frozen=True, slots=True)
class StateQuery:
    """Time spent in each state code, per bucket, for state signals."""

    signal_ids: tuple[int, ...]
    start: Micros
    end: Micros
    every: Micros
    now: Micros
    """Durations never run past ``now``: the future is not known yet."""
    tier: Tier | None = None
    """Force a tier (tests, benchmarks); ``None`` lets the planner choose. Only
    signals declared as state signals (``track_states``) are served from a
    rollup tier; the others are always answered from raw points."""


@dataclass(frozen=True, slots=True)
class EventQuery:
    """Events in ``[start, end)`` on assets under ``asset_prefix`` (a UNS path prefix)."""

    start: Micros
    end: Micros
    asset_prefix: str = ""
    kinds: tuple[EventKind, ...] = ()
    limit: int = 10_000


@dataclass(frozen=True, slots=True)
class WriteStats:
    """What one flush stored. ``duplicates`` were already stored (or repeated in the batch)."""

    points: int = 0
    text: int = 0
    events: int = 0
    duplicates: int = 0


FOREVER: Micros = 2**62
"""A retention that never deletes; spelled ``forever`` in settings."""


@dataclass(frozen=True, slots=True)
class RetentionRule:
    """How long each tier keeps data. ``None`` leaves the tier to the less specific rule;
    ``FOREVER`` keeps it forever."""

    raw: Micros | None = None
    minute: Micros | None = None
    hour: Micros | None = None

    def for_tier(self, tier: Tier) -> Micros | None:
        return {Tier.RAW: self.raw, Tier.MINUTE: self.minute, Tier.HOUR: self.hour}[tier]

    def over(self, fallback: RetentionRule) -> RetentionRule:
        """This rule, with the tiers it leaves open taken from ``fallback``."""
        return RetentionRule(
            raw=fallback.raw if self.raw is None else self.raw,
            minute=fallback.minute if self.minute is None else self.minute,
            hour=fallback.hour if self.hour is None else self.hour,
        )

    def problems(self) -> list[str]:
        """Why this rule would lose information, if it would.

        Rollups are rebuilt from raw points and carry-in values come from
        them, so a coarser tier must live at least as long as a finer one.
        """
        found: list[str] = []
        keep = [(t, self.for_tier(t) or FOREVER) for t in (Tier.RAW, Tier.MINUTE, Tier.HOUR)]
        for (finer, finer_keep), (coarser, coarser_keep) in itertools.pairwise(keep):
            if coarser_keep < finer_keep:
                found.append(f"the {coarser} tier must be kept at least as long as {finer}")
        return found


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Retention per tier: a default, overridden per signal kind, overridden per signal path.

    Overrides apply tier by tier: a kind rule that sets only ``raw`` keeps the
    default's ``minute`` and ``hour``. A tier no rule sets is kept forever.
    """

    default: RetentionRule = field(default_factory=RetentionRule)
    by_kind: dict[str, RetentionRule] = field(default_factory=dict)
    by_signal: dict[str, RetentionRule] = field(default_factory=dict)

    def rule_for(self, path: str, kind: str) -> RetentionRule:
        """The effective rule: the signal's own tiers, else its kind's, else the default's."""
        rule = self.by_kind.get(kind, RetentionRule()).over(self.default)
        return self.by_signal.get(path, RetentionRule()).over(rule)

"""Which storage tier answers an aggregate query: a pure function of the query.

>>> from omp.historian.types import Agg, AggregateQuery
>>> day = 86_400_000_000
>>> choose_tier(AggregateQuery((1,), 0, 30 * day, 60_000_000, (Agg.AVG,)))
<Tier.MINUTE: '1m'>
>>> choose_tier(AggregateQuery((1,), 0, 30 * day, 3_600_000_000, (Agg.AVG,)))
<Tier.HOUR: '1h'>
>>> choose_tier(AggregateQuery((1,), 0, 600_000_000, 60_000_000, (Agg.AVG,)))
<Tier.RAW: 'raw'>
"""

from __future__ import annotations

from omp.historian.types import ROLLUP_TIERS, AggregateQuery, StateQuery, Tier

LONG_RANGE_BUCKETS = 24
"""A rollup tier serves a query whose range holds at least this many whole tier buckets.

Below that the raw edges (up to two tier widths) are a large share of the
work and raw points answer about as fast (decision record 0004)."""


def whole_buckets(start: int, end: int, width: int) -> int:
    """How many complete ``width`` buckets (epoch-aligned) fit in ``[start, end)``."""
    first = -(-start // width) * width
    last = end - end % width
    return max(0, (last - first) // width)


def tier_split(start: int, end: int, width: int) -> tuple[int, int, list[tuple[int, int]]]:
    """How a ``width`` tier serves ``[start, end)``: whole tier buckets and raw edges.

    Returns ``(inner_start, inner_end, edges)``: the tier's rows cover
    ``[inner_start, inner_end)`` (empty when ``inner_start >= inner_end``), and
    ``edges`` are the non-empty unaligned spans at either end, read from raw.

    >>> tier_split(90, 370, 100)
    (100, 300, [(90, 100), (300, 370)])
    """
    inner_start = -(-start // width) * width
    inner_end = end - end % width
    spans = ((start, inner_start), (inner_end, end))
    return inner_start, inner_end, [(lo, hi) for lo, hi in spans if lo < hi]


def choose_tier(query: AggregateQuery, *, long_range: int = LONG_RANGE_BUCKETS) -> Tier:
    """The coarsest rollup tier whose width divides ``every`` and that the range makes worth it.

    A tier forced in ``query.tier`` wins, but a rollup tier that does not
    divide ``every`` is an error (it cannot give the raw answer).
    """
    return _choose(query.start, query.end, query.every, query.tier, long_range)


def choose_state_tier(query: StateQuery, *, long_range: int = LONG_RANGE_BUCKETS) -> Tier:
    """The tier that serves the tracked signals of a time-in-state query.

    Like ``choose_tier``, over ``[start, min(end, now))``: durations never run
    past ``now``, so neither do the tier's whole buckets.

    >>> day = 86_400_000_000
    >>> choose_state_tier(StateQuery((1,), 0, 30 * day, day, now=30 * day))
    <Tier.HOUR: '1h'>
    >>> choose_state_tier(StateQuery((1,), 0, 30 * day, day, now=600_000_000))
    <Tier.RAW: 'raw'>
    """
    horizon = min(query.end, query.now)
    return _choose(query.start, horizon, query.every, query.tier, long_range)


def _choose(start: int, end: int, every: int, forced: Tier | None, long_range: int) -> Tier:
    if every <= 0:
        raise ValueError(f"bucket width must be positive, got {every}us")
    if forced is not None:
        if forced is not Tier.RAW and every % forced.width:
            raise ValueError(
                f"tier {forced} cannot serve {every}us buckets: "
                f"they are not a multiple of {forced.width}us"
            )
        return forced
    for tier in sorted(ROLLUP_TIERS, key=lambda t: t.width, reverse=True):
        if every % tier.width == 0 and whole_buckets(start, end, tier.width) >= long_range:
            return tier
    return Tier.RAW

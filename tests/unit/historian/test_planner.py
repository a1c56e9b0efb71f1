"""The tier planner: a pure function of the query."""

from __future__ import annotations

import pytest

from omp.historian.planner import (
    LONG_RANGE_BUCKETS,
    choose_state_tier,
    choose_tier,
    whole_buckets,
)
from omp.historian.types import Agg, AggregateQuery, StateQuery, Tier

M = 60_000_000
H = 60 * M
D = 24 * H


def _q(start: int, end: int, every: int, tier: Tier | None = None) -> AggregateQuery:
    return AggregateQuery((1,), start, end, every, (Agg.AVG,), tier=tier)


@pytest.mark.parametrize(
    ("start", "end", "every", "tier"),
    [
        (0, 30 * D, M, Tier.MINUTE),  # 1h does not divide 1m
        (0, 30 * D, H, Tier.HOUR),
        (0, 30 * D, 15 * M, Tier.MINUTE),
        (0, 30 * D, D, Tier.HOUR),
        (0, 30 * D, 90 * M, Tier.MINUTE),
        (0, 30 * D, 90 * 1_000_000, Tier.RAW),  # 90 s: no tier divides it
        (0, 10 * M, M, Tier.RAW),  # short range: raw
        (0, LONG_RANGE_BUCKETS * M, M, Tier.MINUTE),
        (1, LONG_RANGE_BUCKETS * M, M, Tier.RAW),  # one whole minute fewer
        (0, 23 * H, H, Tier.MINUTE),  # not enough whole hours, enough minutes
        (0, LONG_RANGE_BUCKETS * H, H, Tier.HOUR),
    ],
)
def test_choice(start: int, end: int, every: int, tier: Tier) -> None:
    assert choose_tier(_q(start, end, every)) is tier


def test_forced_tier_wins_but_must_divide_every() -> None:
    assert choose_tier(_q(0, 30 * D, H, Tier.RAW)) is Tier.RAW
    assert choose_tier(_q(0, M, H, Tier.HOUR)) is Tier.HOUR
    with pytest.raises(ValueError, match="not a multiple"):
        choose_tier(_q(0, 30 * D, 90 * M, Tier.HOUR))


def test_bucket_width_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        choose_tier(_q(0, D, 0))


def test_whole_buckets() -> None:
    assert whole_buckets(0, H, M) == 60
    assert whole_buckets(1, H, M) == 59
    assert whole_buckets(1, H - 1, M) == 58
    assert whole_buckets(5, 10, M) == 0


def _s(start: int, end: int, every: int, now: int, tier: Tier | None = None) -> StateQuery:
    return StateQuery((1,), start, end, every, now=now, tier=tier)


@pytest.mark.parametrize(
    ("end", "every", "now", "tier"),
    [
        (30 * D, D, 30 * D, Tier.HOUR),
        (30 * D, H, 30 * D, Tier.HOUR),
        (30 * D, 15 * M, 30 * D, Tier.MINUTE),
        (30 * D, 90 * 1_000_000, 30 * D, Tier.RAW),  # 90 s: no tier divides it
        (30 * D, D, 23 * H, Tier.MINUTE),  # durations stop at now: too few whole hours
        (30 * D, D, 10 * M, Tier.RAW),
        (2 * H, H, 30 * D, Tier.MINUTE),  # end bounds it as well
    ],
)
def test_state_tier_counts_whole_buckets_before_now(
    end: int, every: int, now: int, tier: Tier
) -> None:
    assert choose_state_tier(_s(0, end, every, now)) is tier


def test_state_tier_forced_must_divide_every() -> None:
    assert choose_state_tier(_s(0, 30 * D, D, 30 * D, Tier.RAW)) is Tier.RAW
    with pytest.raises(ValueError, match="not a multiple"):
        choose_state_tier(_s(0, 30 * D, 90 * M, 30 * D, Tier.HOUR))
    with pytest.raises(ValueError, match="positive"):
        choose_state_tier(_s(0, D, 0, D))

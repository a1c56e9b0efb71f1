"""Mapping a retention policy to per-tier cutoffs."""

from __future__ import annotations

from omp.historian.retention import plan_cutoffs
from omp.historian.types import FOREVER, RetentionPolicy, RetentionRule, Tier


def test_rules_apply_tier_by_tier_signal_over_kind_over_default() -> None:
    policy = RetentionPolicy(
        default=RetentionRule(raw=10, minute=100),
        by_kind={"state": RetentionRule(raw=50)},
        by_signal={"x/special": RetentionRule(hour=1_000)},
    )
    ids = {"x/a": 1, "x/b": 2, "x/s": 3, "x/special": 4}
    kinds = {"x/s": "state", "x/special": "state"}
    plan = plan_cutoffs(policy, ids, kinds, now=10_000)
    assert plan == {
        Tier.RAW: [(9_950, [3, 4]), (9_990, [1, 2])],
        Tier.MINUTE: [(9_900, [1, 2, 3, 4])],
        Tier.HOUR: [(9_000, [4])],
    }


def test_keep_forever_plans_nothing() -> None:
    assert plan_cutoffs(RetentionPolicy(), {"a": 1}, {}, now=5) == {}


def test_forever_overrides_a_less_specific_limit() -> None:
    policy = RetentionPolicy(
        default=RetentionRule(raw=10), by_signal={"keep": RetentionRule(raw=FOREVER)}
    )
    plan = plan_cutoffs(policy, {"keep": 1, "other": 2}, {}, now=100)
    assert plan == {Tier.RAW: [(90, [2])]}


def test_a_rollup_tier_shorter_than_raw_is_a_problem() -> None:
    assert RetentionRule(raw=100, minute=10).problems() == [
        "the 1m tier must be kept at least as long as raw"
    ]
    assert RetentionRule(minute=10).problems()  # raw kept forever, minutes not
    assert RetentionRule(raw=10, minute=100, hour=1_000).problems() == []

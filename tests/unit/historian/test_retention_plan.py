"""Mapping a retention policy to per-tier cutoffs."""

from __future__ import annotations

from omp.historian.retention import plan_cutoffs
from omp.historian.types import RetentionPolicy, RetentionRule, Tier


def test_signal_rule_beats_kind_rule_beats_default() -> None:
    policy = RetentionPolicy(
        default=RetentionRule(raw=10, minute=100),
        by_kind={"state": RetentionRule(raw=50)},
        by_signal={"x/special": RetentionRule(hour=1_000)},
    )
    ids = {"x/a": 1, "x/b": 2, "x/s": 3, "x/special": 4}
    kinds = {"x/s": "state", "x/special": "state"}
    plan = plan_cutoffs(policy, ids, kinds, now=10_000)
    assert plan == {
        Tier.RAW: [(9_950, [3]), (9_990, [1, 2])],
        Tier.MINUTE: [(9_900, [1, 2])],
        Tier.HOUR: [(9_000, [4])],
    }


def test_keep_forever_plans_nothing() -> None:
    assert plan_cutoffs(RetentionPolicy(), {"a": 1}, {}, now=5) == {}

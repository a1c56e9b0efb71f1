"""Turning a ``RetentionPolicy`` into per-tier cutoffs for ``Retention.delete_before``.

>>> from omp.historian.types import RetentionPolicy, RetentionRule, Tier
>>> policy = RetentionPolicy(by_kind={"measurement": RetentionRule(raw=10)})
>>> plan_cutoffs(policy, {"a": 1, "b": 2}, {"a": "measurement", "b": "text"}, now=100)
{<Tier.RAW: 'raw'>: [(90, [1])]}
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from omp.core.time import Micros
from omp.historian.types import FOREVER, RetentionPolicy, Tier

Cutoffs = dict[Tier, list[tuple[Micros, list[int]]]]


def plan_cutoffs(
    policy: RetentionPolicy,
    signal_ids: Mapping[str, int],
    kinds: Mapping[str, str],
    *,
    now: Micros,
) -> Cutoffs:
    """Per tier, the cutoffs and the signals each applies to (signals grouped by cutoff).

    A signal whose kind is unknown gets the policy's default rule. Tiers and
    signals kept forever are left out.
    """
    grouped: dict[Tier, dict[Micros, list[int]]] = defaultdict(lambda: defaultdict(list))
    for path, signal_id in sorted(signal_ids.items(), key=lambda item: item[1]):
        rule = policy.rule_for(path, kinds.get(path, ""))
        for tier in Tier:
            keep = rule.for_tier(tier)
            if keep is not None and keep != FOREVER:
                grouped[tier][now - keep].append(signal_id)
    return {
        tier: sorted((cutoff, ids) for cutoff, ids in by_cutoff.items())
        for tier, by_cutoff in grouped.items()
    }

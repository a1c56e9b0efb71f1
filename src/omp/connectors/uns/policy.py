"""Per-signal publishing policy, resolved once from the model and the options.

Hot paths look a signal up by id in a plain dict: topic, retain flag, minimum
interval and how to render its value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from omp.connectors.uns.options import UnsOptions
from omp.core.time import Micros
from omp.model.kinds import Datatype
from omp.model.registry import Registry, Signal


@dataclass(frozen=True, slots=True)
class SignalPolicy:
    """How one signal is published."""

    topic: str
    retain: bool
    min_interval: Micros
    datatype: Datatype
    unit: str | None
    states: Mapping[int, str]


def resolve(registry: Registry, options: UnsOptions) -> dict[int, SignalPolicy]:
    """Signal id -> policy for every signal of the model."""
    return {signal.id: _policy(signal, options) for signal in registry}


def _policy(signal: Signal, options: UnsOptions) -> SignalPolicy:
    retain, interval = options.retain, options.max_rate
    for rule in options.rules:
        if rule.selects(signal.path, signal.kind):
            retain = retain if rule.retain is None else rule.retain
            interval = interval if rule.max_rate is None else rule.max_rate
    return SignalPolicy(
        topic=f"{options.prefix}/{signal.path}",
        retain=retain,
        min_interval=interval,
        datatype=signal.datatype,
        unit=signal.unit,
        states=signal.states,
    )

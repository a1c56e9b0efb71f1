"""What the host knows about each edge node: its session (bdSeq, seq) and metric scopes.

A ``Scope`` is the metric table of one edge node (its NBIRTH) or one device
(its DBIRTH), built once per birth so data messages resolve aliases with
plain dict lookups. Aliases are kept per scope: the spec makes them unique
per edge node, so per scope is the same and needs no cross-device check.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from omp.connectors.sparkplug.metrics import Kind, MetricDef

NODE_DEVICE = "_node"
"""The device level of a node metric's address: ``<group>/<edge node>/_node/<metric>``."""


@dataclass(slots=True)
class Scope:
    """The metrics of one edge node or device from its last birth, and their last values."""

    name: str
    """How health and logs name it: ``<group>/<edge node>`` or ``<group>/<edge node>/<device>``."""
    by_name: dict[str, MetricDef] = field(default_factory=dict)
    by_alias: dict[int, MetricDef] = field(default_factory=dict)
    floats: dict[int, int] = field(default_factory=dict)
    """Alias -> feed index of Float metrics: the hot path of data messages."""
    doubles: dict[int, int] = field(default_factory=dict)
    last: dict[int, float | str] = field(default_factory=dict)
    """Feed index -> last value stored, so a death can write the value again as stale."""
    messages: int = 0
    values: int = 0
    """Counted since the last health report (the host reports them in bulk)."""

    def define(self, metric: MetricDef, alias: int | None) -> None:
        self.by_name[metric.name] = metric
        if alias is None:
            return
        self.by_alias[alias] = metric
        # Alias 0 stays off the hot path: a metric sent by name reads as alias 0 there.
        # Transient metrics take the careful path, which drops them.
        if not alias or metric.transient:
            return
        if metric.kind is Kind.FLOAT:
            self.floats[alias] = metric.index
        elif metric.kind is Kind.DOUBLE:
            self.doubles[alias] = metric.index

    def lookup(self, name: str, alias: int) -> MetricDef | None:
        """The definition a data message's metric refers to (by name when it has one)."""
        return self.by_name.get(name) if name else self.by_alias.get(alias)


@dataclass(slots=True)
class EdgeNode:
    """One edge node's Sparkplug session as the host follows it."""

    group: str
    node: str
    online: bool = False
    bd_seq: int | None = None
    next_seq: int = 0
    scope: Scope | None = None
    devices: dict[str, Scope] = field(default_factory=dict)
    last_rebirth: int | None = None
    """Clock time (µs) of the last rebirth request sent to it."""
    late_deaths: int = 0

    @property
    def name(self) -> str:
        return f"{self.group}/{self.node}"

    def scopes(self) -> list[Scope]:
        return ([self.scope] if self.scope is not None else []) + list(self.devices.values())

    def address_prefix(self, device: str | None) -> str:
        return f"{self.group}/{self.node}/{device or NODE_DEVICE}/"

    def check_seq(self, seq: int) -> int | None:
        """Advance the sequence; the expected number when ``seq`` is not it (a gap)."""
        expected = self.next_seq
        self.next_seq = (seq + 1) & 0xFF
        return None if seq == expected else expected

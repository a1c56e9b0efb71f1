"""Events: things that happen to an asset at a time, stored apart from points.

Events are rare next to points (state changes, alarms, orders, shifts), so one
object per event is fine here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from omp.core.time import Micros


class EventKind(StrEnum):
    """What kind of thing happened. One name per concept (ISA-95, ISA-18.2)."""

    STATE_CHANGE = "state_change"
    """A piece of equipment entered a state, with the reason (a downtime reason)."""
    ALARM = "alarm"
    """An ISA-18.2 alarm transition: ``name`` is the alarm, ``state`` its new state."""
    ORDER = "order"
    """A production order record: ``name`` is the order id, ``ts``..``end_ts`` its run."""
    SHIFT = "shift"
    """A shift record: ``name`` is the shift, ``ts``..``end_ts`` its span."""
    QUALITY = "quality"
    """A quality verdict on a part or lot."""


@dataclass(frozen=True, slots=True)
class Event:
    """One event on one asset.

    ``(asset, kind, name, ts)`` identifies an event: writing the same identity
    again replaces the stored record, so replays never duplicate and an order
    record can be written at start and again, with its end, at completion.
    """

    ts: Micros
    asset: str
    """The unified-namespace path of the equipment (or any node of the tree)."""
    kind: EventKind
    name: str
    """The state code, alarm name, order id, shift name or verdict."""
    state: str | None = None
    """Alarm state, or the state label for a state change."""
    reason: str | None = None
    end_ts: Micros | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

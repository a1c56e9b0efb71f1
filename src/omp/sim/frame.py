"""``Frame``: the plant at one tick, as the engine hands it to every output.

The engine (``omp.sim.engine``) produces one frame per tick; protocol servers
and publishers (``omp.sim.servers``), the ground-truth recorder and the
history writer consume it. A frame carries simulated time, never wall time,
so the same seed gives the same frames and the same bytes on every wire.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from omp.core.events import Event
from omp.core.time import Micros

Value = float | int | str
"""A signal's value: float for measurements, int for states and counters, str for text."""


@dataclass(slots=True)
class Frame:
    """Every machine's signal values at ``ts``, and what happened since the previous tick."""

    ts: Micros
    """Simulated time of this tick, µs since the epoch (UTC)."""
    values: Sequence[Sequence[Value]]
    """``values[machine.index][i]`` is the value of ``machine.kind.signals[i]``."""
    events: list[Event] = field(default_factory=list)
    """State changes (with reasons), orders and shifts since the previous tick, in time order.
    ``Event.asset`` is the machine's (or line's) full path, enterprise first."""


class FrameOutput(Protocol):
    """Something that serves or records the plant: started once, handed every frame.

    ``publish`` runs on the simulator's event loop and must not block it:
    network work is scheduled, not awaited. An output that loses its peer
    (a broker going away) keeps accepting frames and reconnects by itself.
    """

    name: str

    async def start(self) -> None: ...

    def publish(self, frame: Frame) -> None: ...

    async def stop(self) -> None: ...

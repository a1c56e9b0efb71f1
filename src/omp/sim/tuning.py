"""``Tuning``: the behaviour figures of a run that are not properties of a machine kind.

The defaults give a plausible plant; tests shorten them (a wear life of an
hour, counter resets every few minutes) to see rare behaviour in short runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Tuning:
    """Figures every machine and line of a run share."""

    random_breakdowns: bool = True
    """Breakdowns from the kinds' MTBF; off leaves wear and forced breakdowns only."""
    wear_life_hours: tuple[float, float] = (24.0, 120.0)
    """Uniform range of producing hours from a repaired machine to its wear breakdown."""
    initial_wear: tuple[float, float] = (0.0, 0.8)
    """Uniform range of the wear (0 new, 1 broken) machines start a run with."""
    wear_repair_minutes: tuple[float, float] = (60.0, 180.0)
    wear_gain: float = 25.0
    """How far the degrading signal has risen at the wear breakdown, in noise standard
    deviations; the rise grows with the square of the wear."""
    counter_reset_days: float = 4.0
    """Mean days between PLC counter resets to 0 (``inf``: never)."""
    counter_wrap: int = 2**31
    """Counters wrap to 0 here, as a signed 32-bit PLC counter does."""
    quality_cpk: float = 1.3
    """Process capability of the quality measurement outside episodes."""
    quality_episode_hours: float = 36.0
    """Mean hours between quality episodes (a mean shift or a trend) on a machine."""
    quality_episode_length_hours: tuple[float, float] = (1.0, 4.0)
    order_hours: tuple[float, float] = (1.5, 6.0)
    """Uniform range of an order's length at the line's ideal rate."""
    order_gap_minutes: float = 20.0
    """Mean gap between one order's end and the next one's release."""
    order_gap_none: float = 0.3
    """Share of orders released right after the previous one."""
    first_changeover: bool = True
    """Lines change over to their first order; off, a run starts as if mid-order, producing."""

    def __post_init__(self) -> None:
        if self.counter_wrap < 2:
            raise ValueError(f"counter_wrap must be at least 2, not {self.counter_wrap}")
        if not self.quality_cpk > 0:
            raise ValueError(f"quality_cpk must be positive, not {self.quality_cpk}")
        if not (self.counter_reset_days > 0 or math.isinf(self.counter_reset_days)):
            raise ValueError("counter_reset_days must be positive (inf: never)")

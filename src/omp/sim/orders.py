"""An MES-like order stream per line: what to make next, how many, how fast.

A line works one order at a time. ``OrderStream`` releases the next order
after a gap (sometimes none); the line changes over to it, and the order
ends when the line's last machine has made its quantity of good parts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from omp.core.time import US_PER_MINUTE, Micros
from omp.sim.plant import LineSpec
from omp.sim.rng import RandomStream
from omp.sim.tuning import Tuning

PRODUCTS: dict[str, tuple[str, ...]] = {
    "press": ("door_outer_left", "door_outer_right", "hood", "roof_panel"),
    "welding": ("side_frame_left", "side_frame_right", "underbody"),
    "machining": ("gear_housing", "pump_body", "valve_block"),
    "packaging": ("cola_500ml", "water_500ml", "juice_330ml", "tea_330ml"),
}
"""Products each line kind makes."""


@dataclass(frozen=True, slots=True)
class Order:
    """A production order on one line; ``end`` is None while it runs."""

    id: str
    line: str
    """The line's full path, enterprise first (the ORDER event's asset)."""
    product: str
    quantity: int
    ideal_cycle_s: float
    """The line's ideal cycle time for this product (its slowest machine's)."""
    start: Micros
    end: Micros | None = None

    def ended(self, at: Micros) -> Order:
        return dataclasses.replace(self, end=at)

    @property
    def attributes(self) -> dict[str, Any]:
        """The ORDER event's attributes."""
        return {
            "product": self.product,
            "quantity": self.quantity,
            "ideal_cycle_s": self.ideal_cycle_s,
        }


class OrderStream:
    """The orders one line receives, drawn from the line's own random stream."""

    __slots__ = ("_asset", "_cycle_s", "_number", "_prefix", "_products", "_rng", "_tuning")

    def __init__(self, line: LineSpec, asset: str, rng: RandomStream, tuning: Tuning) -> None:
        self._asset = asset
        self._rng = rng
        self._tuning = tuning
        self._products = PRODUCTS.get(line.kind, (line.kind,))
        self._cycle_s = max(m.kind.ideal_cycle_s for m in line.machines)
        self._prefix = f"{line.site[:3].upper()}-{line.name.upper()}"
        self._number = 0

    def release(self, at: Micros) -> Order:
        """The next order, starting at ``at``."""
        self._number += 1
        hours = self._rng.uniform(*self._tuning.order_hours)
        quantity = max(1, round(hours * 3600.0 / self._cycle_s / 10.0) * 10)
        product = self._products[int(self._rng.uniform(0.0, len(self._products)))]
        return Order(
            id=f"{self._prefix}-{self._number:05d}",
            line=self._asset,
            product=product,
            quantity=quantity,
            ideal_cycle_s=self._cycle_s,
            start=at,
        )

    def gap(self) -> Micros:
        """Time from one order's end to the next order's release."""
        if self._rng.uniform() < self._tuning.order_gap_none:
            return 0
        return round(self._rng.exponential(self._tuning.order_gap_minutes) * US_PER_MINUTE)

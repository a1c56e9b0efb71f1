"""A line: machines in flow order feeding each other through buffers, working one order.

The first machine has unlimited raw material; machine n takes its parts from
the buffer after machine n - 1, so a stop upstream empties the buffers and
starves everything downstream, and a stop downstream fills them and blocks
everything upstream. The line releases orders from its ``OrderStream``; an
order ends when the last machine has made its quantity of good parts.
"""

from __future__ import annotations

from omp.core.events import Event, EventKind
from omp.core.time import Micros
from omp.sim.machine import Journal, Machine
from omp.sim.orders import Order, OrderStream
from omp.sim.plant import LineSpec


class Line:
    """One line's flow and orders; ``tick`` runs its machines upstream first."""

    __slots__ = (
        "asset", "buffers", "capacity", "changeover", "machines", "next_release", "order",
        "orders",
    )  # fmt: skip

    def __init__(
        self, spec: LineSpec, *, asset: str, machines: list[Machine], orders: OrderStream,
        start: Micros, first_changeover: bool = True,
    ) -> None:  # fmt: skip
        self.asset = asset
        self.machines = machines
        self.capacity = spec.buffer_size
        self.buffers = [0] * (len(machines) - 1)
        self.orders = orders
        self.order: Order | None = None
        self.next_release = start
        self.changeover = first_changeover

    def tick(
        self, t: Micros, dt: Micros, planned: str | None, events: list[Event], journal: Journal
    ) -> None:
        """Release an order when one is due, run every machine, and end a completed order."""
        if self.order is None and t >= self.next_release:
            self._begin(self.orders.release(t), events)
        for machine in self.machines:
            machine.tick(t, dt, planned, self)
        order = self.order
        if order is not None and self.machines[-1].order_good >= order.quantity:
            self._end(order.ended(t + dt), t + dt, events, journal)

    def _begin(self, order: Order, events: list[Event]) -> None:
        self.order = order
        for machine in self.machines:
            machine.begin_order(order, changeover=self.changeover)
        self.changeover = True
        events.append(_order_event(order))

    def _end(self, order: Order, end: Micros, events: list[Event], journal: Journal) -> None:
        self.order = None
        self.buffers = [0] * len(self.buffers)
        for machine in self.machines:
            machine.end_order()
        self.next_release = end + self.orders.gap()
        events.append(_order_event(order))
        journal.append(order)


def _order_event(order: Order) -> Event:
    """The ORDER record: written at the start and again, with ``end_ts``, at completion."""
    return Event(
        ts=order.start,
        asset=order.line,
        kind=EventKind.ORDER,
        name=order.id,
        end_ts=order.end,
        attributes=order.attributes,
    )

"""The in-process bus: live fan-out of resolved batches and events to consumers.

Delivery is synchronous on the publisher's thread, in subscription order, so a
consumer sees batches in the order ingest accepted them. A consumer must be
quick (hand off to its own queue if it does real work). A consumer that raises
is counted and logged once per failure streak, never allowed to break ingest or
starve the other consumers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from omp.core.batch import PointBatch, TextBatch
from omp.core.events import Event

log = logging.getLogger(__name__)

_T = TypeVar("_T")
BatchHandler = Callable[[PointBatch | TextBatch], None]
EventHandler = Callable[[Sequence[Event]], None]


@dataclass(eq=False)
class Subscription:
    """A registered consumer; ``close()`` unsubscribes it. Failures are counted per consumer."""

    name: str
    on_batch: BatchHandler | None
    on_events: EventHandler | None
    _bus: Bus
    failures: int = 0
    last_error: str | None = None
    _failing: bool = field(default=False, repr=False)

    def close(self) -> None:
        self._bus._remove(self)

    def _deliver(self, handler: Callable[[_T], None], item: _T) -> None:
        try:
            handler(item)
        except Exception as exc:  # a consumer's bug must not break ingest
            self.failures += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            if not self._failing:
                log.exception("bus consumer %r failed; further failures are counted", self.name)
            self._failing = True
        else:
            if self._failing:
                log.info("bus consumer %r recovered after %d failures", self.name, self.failures)
            self._failing = False


class Bus:
    """Synchronous fan-out of ``PointBatch``/``TextBatch`` and ``Event`` lists."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscriptions: tuple[Subscription, ...] = ()

    def subscribe(
        self,
        name: str,
        *,
        on_batch: BatchHandler | None = None,
        on_events: EventHandler | None = None,
    ) -> Subscription:
        """Register a consumer under a name used in logs and health."""
        subscription = Subscription(name, on_batch, on_events, self)
        with self._lock:
            self._subscriptions = (*self._subscriptions, subscription)
        return subscription

    def _remove(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions = tuple(s for s in self._subscriptions if s is not subscription)

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        return self._subscriptions

    def publish(self, batch: PointBatch | TextBatch) -> None:
        # Reading the tuple once makes publishing lock-free and safe against
        # concurrent subscribe/close: a snapshot is delivered to.
        for subscription in self._subscriptions:
            handler = subscription.on_batch
            if handler is not None:
                subscription._deliver(handler, batch)

    def publish_events(self, events: Sequence[Event]) -> None:
        if not events:
            return
        for subscription in self._subscriptions:
            handler = subscription.on_events
            if handler is not None:
                subscription._deliver(handler, events)

"""From the ingest thread to the publisher thread: hand over, never work.

The bus calls ``put_batch``/``put_events`` on the ingest thread, so they only
append to a deque and, when the publisher is not already due to wake, ask its
loop to wake (one cross-thread call per wake-up, not per batch). Everything
else -- folding, encoding, publishing -- happens on the publisher's thread.

If the publisher thread falls far behind (``max_batches`` handed over and not
taken), the ingest thread folds the waiting batches into the backlog itself,
so memory stays bounded by the number of signals even then.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence

from omp.connectors.uns.backlog import Backlog, Pending
from omp.core.batch import PointBatch, TextBatch
from omp.core.events import Event
from omp.core.time import Clock, Micros


class Handoff:
    """A thread-safe mailbox of batches and events with a wake-up hook."""

    def __init__(
        self,
        backlog: Backlog,
        clock: Clock,
        *,
        max_batches: int = 1_000,
        max_events: int = 10_000,
    ) -> None:
        self._backlog = backlog
        self._clock = clock
        self._batches: deque[PointBatch | TextBatch] = deque()
        self._events: deque[Event] = deque()
        self._max_batches = max_batches
        self._max_events = max_events
        self._fold_lock = threading.Lock()
        self._signalled = False
        self._wake: Callable[[], None] = lambda: None
        self.events_dropped = 0

    def set_wake(self, wake: Callable[[], None]) -> None:
        """Install the thread-safe call that wakes the publisher (None of it before start)."""
        self._wake = wake

    def put_batch(self, batch: PointBatch | TextBatch) -> None:
        self._batches.append(batch)
        if len(self._batches) > self._max_batches:
            self.fold()  # the publisher is stalled: keep memory bounded by signals
        self._signal()

    def put_events(self, events: Sequence[Event]) -> None:
        overflow = len(self._events) + len(events) - self._max_events
        if overflow > 0:
            self.events_dropped += overflow
            for _ in range(min(overflow, len(self._events))):
                self._events.popleft()
        self._events.extend(events[-self._max_events :])
        self._signal()

    def _signal(self) -> None:
        if not self._signalled:
            self._signalled = True
            self._wake()

    def rearm(self) -> None:
        """Called by the publisher before it takes: later hand-overs wake it again."""
        self._signalled = False

    def fold(self) -> None:
        """Move every handed-over batch into the backlog (either thread may call it)."""
        with self._fold_lock:
            self._fold()

    def _fold(self) -> None:
        while self._batches:
            self._backlog.fold(self._batches.popleft(), now=self._clock())

    def take_due(self) -> tuple[list[Pending], Micros | None]:
        """Fold what was handed over, then the values due now and when the next one is."""
        with self._fold_lock:
            self._fold()
            return self._backlog.take_due(now=self._clock()), self._backlog.next_due()

    def set_intervals(self, min_interval: Mapping[int, Micros]) -> None:
        """Switch the backlog to a new model's signals and rate limits."""
        with self._fold_lock:
            self._backlog.set_intervals(min_interval)

    def take_events(self) -> list[Event]:
        taken: list[Event] = []
        while self._events:
            taken.append(self._events.popleft())
        return taken

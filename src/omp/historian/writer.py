"""The write path of the service: a bounded queue and the one writer thread.

``WriteQueue`` holds accepted batches, bounded by points; ``put`` blocks while
it is full (backpressure) and raises ``BackpressureError`` after the caller's
timeout, so nothing is dropped silently. ``Writer`` is the only thread that
mutates the store: it coalesces whatever is queued into one ``write`` (one
transaction) when the flush window closes (``flush_interval`` after the first
queued item, or ``flush_points`` queued, or a ``flush`` request), and retries
a failing write with exponential backoff for as long as the process lives.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from omp.core.batch import PointBatch, TextBatch
from omp.core.errors import BackpressureError, HistorianClosedError, HistorianTimeoutError
from omp.core.events import Event
from omp.core.time import Clock, Micros
from omp.historian.backend import HistorianBackend
from omp.historian.types import WriteStats

_LOG = logging.getLogger(__name__)

Item = PointBatch | TextBatch | tuple[Event, ...]


def item_size(item: Item) -> int:
    """Queue weight: points or events (an empty item still weighs one)."""
    return max(1, len(item))


@dataclass(slots=True)
class Group:
    """Queued items coalesced into one backend write."""

    points: list[PointBatch] = field(default_factory=list)
    text: list[TextBatch] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    size: int = 0
    last_seq: int = 0

    def add(self, item: Item, seq: int) -> None:
        if isinstance(item, PointBatch):
            self.points.append(item)
        elif isinstance(item, TextBatch):
            self.text.append(item)
        else:
            self.events.extend(item)
        self.size += item_size(item)
        self.last_seq = seq

    def point_batch(self) -> PointBatch:
        if not self.points:
            return PointBatch.empty()
        if len(self.points) == 1:
            return self.points[0]
        return PointBatch(
            np.concatenate([b.signal_id for b in self.points]),
            np.concatenate([b.ts for b in self.points]),
            np.concatenate([b.value for b in self.points]),
            np.concatenate([b.quality for b in self.points]),
        )

    def text_batch(self) -> TextBatch | None:
        if not self.text:
            return None
        return TextBatch(
            np.concatenate([b.signal_id for b in self.text]),
            np.concatenate([b.ts for b in self.text]),
            pa.concat_arrays([b.value.cast(pa.string()) for b in self.text]),
            np.concatenate([b.quality for b in self.text]),
        )


@dataclass(frozen=True, slots=True)
class FlushWindow:
    """When queued data must be written: after ``interval`` or at ``points``, whichever first."""

    interval: Micros
    points: int

    def due(self, *, queued: int, oldest: Micros | None, now: Micros) -> bool:
        if oldest is None:
            return False
        return queued >= self.points or now - oldest >= self.interval

    def wait_seconds(self, *, oldest: Micros | None, now: Micros, tick: float) -> float:
        """How long the writer may sleep before it must look again (at most ``tick``)."""
        if oldest is None:
            return tick
        return max(0.0, min(tick, (oldest + self.interval - now) / 1e6))


class Counters:
    """What the writer did so far; read through ``Historian.stats``."""

    def __init__(self) -> None:
        self.points = 0
        self.text = 0
        self.events = 0
        self.duplicates = 0
        self.flushes = 0
        self.failures = 0
        self.last_flush_at: Micros | None = None
        self.last_error: str | None = None
        self.last_error_at: Micros | None = None

    def add(self, stats: WriteStats, now: Micros) -> None:
        self.points += stats.points
        self.text += stats.text
        self.events += stats.events
        self.duplicates += stats.duplicates
        self.flushes += 1
        self.last_flush_at = now


class Writer:
    """The queue and the thread that drains it into the backend."""

    def __init__(
        self,
        backend: HistorianBackend,
        *,
        clock: Clock,
        window: FlushWindow,
        capacity: int,
        backoff: tuple[float, float],
        tick: float = 0.05,
    ) -> None:
        self._backend = backend
        self._clock = clock
        self._window = window
        self._capacity = capacity
        self._backoff = backoff
        self._tick = tick
        self._cond = threading.Condition()
        self._queue: deque[tuple[int, Item, Micros]] = deque()
        self._queued = 0
        self._in_flight = 0
        self._seq = 0
        self._durable = 0
        self._flush_to = 0
        self._calls: deque[tuple[Callable[[], Any], Future[Any]]] = deque()
        self._state = "new"
        self._abandon = threading.Event()
        self._thread: threading.Thread | None = None
        self.counters = Counters()

    # --- lifecycle -----------------------------------------------------------

    def start(self) -> None:
        with self._cond:
            if self._state != "new":
                raise HistorianClosedError(
                    f"historian writer for {self._backend.describe()} was already started"
                )
            self._state = "running"
            self._thread = threading.Thread(
                target=self._run, name="omp-historian-writer", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float | None) -> int:
        """Drain the queue and stop; return points left unwritten (0 unless ``timeout`` ran out)."""
        with self._cond:
            if self._state == "running":
                self._state = "stopping"
                self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                self._abandon.set()
                with self._cond:
                    self._cond.notify_all()
                thread.join()
        with self._cond:
            self._state = "stopped"
            return self._queued + self._in_flight

    @property
    def running(self) -> bool:
        return self._state == "running"

    # --- producers -----------------------------------------------------------

    def put(self, item: Item, timeout: float | None) -> None:
        size = item_size(item)
        with self._cond:
            self._check_open()
            if not self._cond.wait_for(lambda: self._admits(size), timeout):
                raise BackpressureError(
                    f"historian queue for {self._backend.describe()} stayed full for {timeout}s "
                    f"({self._queued} of {self._capacity} points queued; "
                    f"last write error: {self.counters.last_error or 'none'})"
                )
            self._check_open()
            self._seq += 1
            self._queue.append((self._seq, item, self._clock()))
            self._queued += size
            self._cond.notify_all()

    def _admits(self, size: int) -> bool:
        # A batch larger than the whole queue is admitted once the queue is empty.
        fits = self._queued == 0 or self._queued + size <= self._capacity
        return fits or self._state != "running"

    def flush(self, timeout: float | None) -> None:
        with self._cond:
            target = self._seq
            if self._state == "running":
                self._flush_to = max(self._flush_to, target)
                self._cond.notify_all()

            def finished() -> bool:
                return self._durable >= target or self._state in ("new", "stopped")

            if not self._cond.wait_for(finished, timeout):
                raise HistorianTimeoutError(
                    f"historian {self._backend.describe()}: data not durable within {timeout}s "
                    f"({self._queued + self._in_flight} points pending; "
                    f"last write error: {self.counters.last_error or 'none'})"
                )
            if self._durable < target:
                raise HistorianClosedError(
                    f"historian {self._backend.describe()} stopped before writing "
                    f"{self._queued + self._in_flight} points"
                )

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the writer thread (the only one that mutates the store)."""
        with self._cond:
            if self._state not in ("running", "stopping"):
                return fn()
            future: Future[Any] = Future()
            self._calls.append((fn, future))
            self._cond.notify_all()
        return future.result()

    def depth(self) -> tuple[int, int]:
        with self._cond:
            return self._queued, self._in_flight

    def _check_open(self) -> None:
        if self._state != "running":
            raise HistorianClosedError(
                f"historian {self._backend.describe()} is {self._state}; it takes no more writes"
            )

    # --- the thread ----------------------------------------------------------

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            with self._cond:
                self._state = "stopped"
                leftover = list(self._calls)
                self._calls.clear()
                self._cond.notify_all()
            for fn, future in leftover:  # handed over while the thread was ending
                _settle(future, fn)

    def _loop(self) -> None:
        while True:
            group, calls = self._next()
            for fn, future in calls:
                _settle(future, fn)
            if group is None:
                if not calls:
                    return
                continue
            if not self._write(group):
                return

    def _next(self) -> tuple[Group | None, list[tuple[Callable[[], Any], Future[Any]]]]:
        """Wait until a group is due (or calls arrive, or stop); take it from the queue."""
        with self._cond:
            while True:
                calls = list(self._calls)
                self._calls.clear()
                oldest = self._queue[0][2] if self._queue else None
                now = self._clock()
                due = self._window.due(queued=self._queued, oldest=oldest, now=now)
                flushing = self._queue and (
                    self._flush_to >= self._queue[0][0] or self._state != "running"
                )
                if due or flushing:
                    return self._take(), calls
                if calls:
                    return None, calls
                if self._state != "running" or self._abandon.is_set():
                    self._state = "stopped"  # under the lock: no call can be queued after this
                    return None, []
                self._cond.wait(self._window.wait_seconds(oldest=oldest, now=now, tick=self._tick))

    def _take(self) -> Group:
        group = Group()
        while self._queue and (
            not group.size or group.size + item_size(self._queue[0][1]) <= self._window.points
        ):
            seq, item, _ = self._queue.popleft()
            group.add(item, seq)
        self._queued -= group.size
        self._in_flight = group.size
        self._cond.notify_all()
        return group

    def _write(self, group: Group) -> bool:
        """Write ``group``, retrying with backoff; ``False`` if abandoned at stop."""
        delay, limit = self._backoff
        failing = False
        while True:
            try:
                stats = self._backend.write(
                    group.point_batch(), group.text_batch(), tuple(group.events)
                )
            except Exception as exc:  # every failure is retried and reported, never dropped
                self._failed(exc, first=not failing)
                failing = True
                if self._abandon.wait(delay):
                    return False
                delay = min(limit, delay * 2)
                self._run_calls()  # catalog and retention callers get an answer meanwhile
                continue
            if failing:
                _LOG.warning("historian %s: writes recovered", self._backend.describe())
            with self._cond:
                self.counters.add(stats, self._clock())
                self._durable = group.last_seq
                self._in_flight = 0
                self._cond.notify_all()
            return True

    def _run_calls(self) -> None:
        with self._cond:
            calls = list(self._calls)
            self._calls.clear()
        for fn, future in calls:
            _settle(future, fn)

    def _failed(self, exc: Exception, *, first: bool) -> None:
        message = f"{type(exc).__name__}: {exc}"
        with self._cond:
            self.counters.failures += 1
            self.counters.last_error = message
            self.counters.last_error_at = self._clock()
        if first:
            _LOG.error(
                "historian %s: write failed, retrying: %s", self._backend.describe(), message
            )


def _settle(future: Future[Any], fn: Callable[[], Any]) -> None:
    """Run ``fn`` and hand its result or exception to whoever waits on ``future``."""
    try:
        future.set_result(fn())
    except BaseException as exc:  # handed to the caller's thread
        future.set_exception(exc)

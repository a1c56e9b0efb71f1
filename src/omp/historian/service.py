"""``Historian``: the service in front of a backend.

One writer thread owns every mutation of the store; producers enqueue into a
bounded queue and get backpressure when it is full. Reads go straight to the
backend from the caller's thread (backends allow concurrent reads).

Durability: a batch accepted by ``write`` is committed within the flush
window (``flush_interval``, default 1 s, or sooner once ``flush_points`` are
queued); ``flush`` returns once everything accepted before it is committed.
A crash loses at most what was accepted and not yet flushed; see
``docs/historian.md``.

Use (the runtime picks the backend)::

    with Historian(DuckDBBackend.open(data_dir)) as historian:
        historian.write(batch)
        historian.flush(timeout=5)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Self

import numpy as np
import pyarrow as pa

from omp.core.batch import PointBatch, TextBatch
from omp.core.errors import HistorianError
from omp.core.events import Event
from omp.core.time import US_PER_SECOND, Clock, Micros, system_clock
from omp.historian.backend import HistorianBackend
from omp.historian.planner import choose_tier
from omp.historian.retention import plan_cutoffs
from omp.historian.types import (
    AggregateQuery,
    Cursor,
    EventQuery,
    RawQuery,
    RetentionPolicy,
    StateQuery,
    Tier,
)
from omp.historian.writer import FlushWindow, Writer


@dataclass(frozen=True, slots=True)
class HistorianStats:
    """Counters of the write path. ``queued``/``in_flight`` are points (or events)."""

    points_written: int
    text_written: int
    events_written: int
    duplicates: int
    flushes: int
    failed_writes: int
    queued: int
    in_flight: int
    last_flush_at: Micros | None
    last_error: str | None
    last_error_at: Micros | None


def _check_attributes(event: Event) -> None:
    try:
        json.dumps(event.attributes)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"event {event.kind.value} {event.name!r} on {event.asset} at {event.ts}: "
            f"attributes are not JSON-serialisable ({exc})"
        ) from exc


class Historian:
    """The historian service: single writer, bounded queue, flush window, reads, retention."""

    def __init__(
        self,
        backend: HistorianBackend,
        *,
        clock: Clock = system_clock,
        flush_interval: Micros = US_PER_SECOND,
        flush_points: int = 100_000,
        queue_points: int = 1_000_000,
        retry_backoff: tuple[float, float] = (0.1, 10.0),
        retention: RetentionPolicy | None = None,
    ) -> None:
        if flush_interval <= 0 or flush_points <= 0 or queue_points <= 0:
            raise ValueError("flush_interval, flush_points and queue_points must be positive")
        self._backend = backend
        self._clock = clock
        self._retention = retention or RetentionPolicy()
        self._writer = Writer(
            backend,
            clock=clock,
            window=FlushWindow(interval=flush_interval, points=flush_points),
            capacity=queue_points,
            backoff=retry_backoff,
        )

    # --- lifecycle -----------------------------------------------------------

    def start(self) -> Self:
        """Start the writer thread; writes are accepted from now on."""
        self._writer.start()
        return self

    def stop(self, *, timeout: float | None = None, close_backend: bool = True) -> None:
        """Write everything queued, stop the writer and close the backend.

        With a ``timeout`` that runs out while writes keep failing, the
        writer gives up and ``HistorianError`` says how many points were not
        written (they were never acknowledged by a ``flush``).
        """
        lost = self._writer.stop(timeout)
        if close_backend:
            self._backend.close()
        if lost:
            raise HistorianError(
                f"historian {self._backend.describe()} stopped with {lost} points unwritten: "
                f"{self._writer.counters.last_error or 'writes did not finish in time'}"
            )

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def describe(self) -> str:
        return self._backend.describe()

    # --- writes --------------------------------------------------------------

    def write(self, batch: PointBatch | TextBatch, *, timeout: float | None = None) -> None:
        """Queue a batch for the next flush; blocks while the queue is full.

        Raises ``BackpressureError`` when the queue stays full past
        ``timeout`` (the batch is then not accepted: the caller still owns
        it), ``ValueError`` for timestamps before 1970. The batch is queued by
        reference: do not modify its arrays afterwards.
        """
        if len(batch) and int(np.min(batch.ts)) < 0:
            raise ValueError(f"batch for {self.describe()} has timestamps before 1970")
        self._writer.put(batch, timeout)

    def write_events(self, events: Sequence[Event], *, timeout: float | None = None) -> None:
        """Queue events; an event with the identity of a stored one replaces it.

        Raises ``ValueError`` (naming the event) when attributes are not JSON-serialisable,
        before anything is queued: a bad event must not stall the writer's retries.
        """
        for event in events:
            _check_attributes(event)
        if events:
            self._writer.put(tuple(events), timeout)

    def flush(self, timeout: float | None = None) -> None:
        """Return once everything accepted before this call is committed.

        Raises ``HistorianTimeoutError`` (naming the last write error) when that takes
        longer than ``timeout`` seconds.
        """
        self._writer.flush(timeout)

    def stats(self) -> HistorianStats:
        queued, in_flight = self._writer.depth()
        c = self._writer.counters
        return HistorianStats(
            points_written=c.points,
            text_written=c.text,
            events_written=c.events,
            duplicates=c.duplicates,
            flushes=c.flushes,
            failed_writes=c.failures,
            queued=queued,
            in_flight=in_flight,
            last_flush_at=c.last_flush_at,
            last_error=c.last_error,
            last_error_at=c.last_error_at,
        )

    # --- catalog -------------------------------------------------------------

    def ensure_ids(self, paths: Sequence[str]) -> Mapping[str, int]:
        """Stable ids for signal paths (``omp.core.sink.SignalIdSource``); runs on the writer."""
        result: Mapping[str, int] = self._writer.call(lambda: self._backend.ensure_ids(paths))
        return result

    def signal_ids(self) -> Mapping[str, int]:
        return self._backend.signal_ids()

    def track_states(self, signal_ids: Sequence[int]) -> int:
        """Declare state signals, so long time-in-state ranges come from rollups; runs on
        the writer. Idempotent; returns how many were new (their rollups are built now,
        from raw, which takes a while for signals with much history)."""
        added: int = self._writer.call(lambda: self._backend.track_states(signal_ids))
        return added

    # --- retention -----------------------------------------------------------

    def apply_retention(self, kinds: Mapping[str, str], *, now: Micros | None = None) -> int:
        """Delete what the retention policy no longer keeps; return rows deleted.

        ``kinds`` maps signal paths to their kind (``measurement``, ...);
        signals missing from it get the policy's default rule.
        """
        at = self._clock() if now is None else now
        plan = plan_cutoffs(self._retention, self._backend.signal_ids(), kinds, now=at)

        def run() -> int:
            return sum(
                self._backend.delete_before(tier, [(c, ids) for c, ids in cutoffs])
                for tier, cutoffs in plan.items()
            )

        deleted: int = self._writer.call(run)
        return deleted

    # --- reads ---------------------------------------------------------------

    def read_raw(self, query: RawQuery) -> tuple[pa.Table, Cursor | None]:
        return self._backend.read_raw(query)

    def latest(self, signal_ids: Sequence[int]) -> pa.Table:
        return self._backend.latest(signal_ids)

    def aggregate(self, query: AggregateQuery) -> pa.Table:
        """Time-bucket aggregates, from the tier the planner picks (or ``query.tier``).

        A query without ``now`` gets the clock's: twa lists no empty bucket in the future.
        """
        if query.now is None:
            query = replace(query, now=self._clock())
        return self._backend.aggregate(query, choose_tier(query))

    def plan(self, query: AggregateQuery) -> Tier:
        """The tier ``aggregate`` would use, for explain output."""
        return choose_tier(query)

    def state_durations(self, query: StateQuery) -> pa.Table:
        return self._backend.state_durations(query)

    def read_events(self, query: EventQuery) -> list[Event]:
        return self._backend.read_events(query)

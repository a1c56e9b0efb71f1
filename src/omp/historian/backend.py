"""The contract between the historian service and a storage engine.

The service owns threading, queueing and flush windows; a backend owns SQL.
Write methods are called from the single writer thread only. Read methods may
be called from any thread, concurrently with writes; a backend that needs
per-thread connections or cursors makes them itself.

Results are Arrow tables with these columns:

* raw reads and ``latest``: ``signal_id`` int32, ``ts`` int64, ``value``
  float64 (null for text), ``text`` string (null for numeric), ``quality`` uint8;
* ``aggregate``: ``signal_id`` int32, ``bucket`` int64, then one float64
  column per requested ``Agg``, named by its value, ordered by
  ``(signal_id, bucket)``; one row per bucket with points, and with ``twa``
  requested also per bucket a carried-in value covers (``count`` 0,
  ``increase`` 0, other point aggregates null);
* ``state_durations``: ``signal_id`` int32, ``bucket`` int64, ``state``
  float64, ``duration`` int64 (microseconds), ordered by
  ``(signal_id, bucket, state)``; every bucket in which a state is in force,
  also without a point in it.

The schemas are ``omp.historian.results``.

See ``omp.historian.types`` for the meaning of every aggregate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import pyarrow as pa

from omp.core.batch import PointBatch, TextBatch
from omp.core.events import Event
from omp.core.time import Micros
from omp.historian.types import (
    AggregateQuery,
    Cursor,
    EventQuery,
    RawQuery,
    StateQuery,
    Tier,
    WriteStats,
)


class SignalCatalog(Protocol):
    """The persistent map from signal path to id; ids are never reused."""

    def ensure_ids(self, paths: Sequence[str]) -> Mapping[str, int]:
        """Ids for ``paths``, allocating new ones for paths never seen before."""
        ...

    def signal_ids(self) -> Mapping[str, int]:
        """Every path ever allocated, with its id."""
        ...


class PointWriter(Protocol):
    def write(
        self, points: PointBatch, text: TextBatch | None, events: Sequence[Event]
    ) -> WriteStats:
        """Store one flush atomically and bring the rollups of touched buckets up to date.

        On return the data is durable (committed). Replayed identities are skipped.
        """
        ...


class StateTracking(Protocol):
    def track_states(self, signal_ids: Sequence[int]) -> int:
        """Declare ``signal_ids`` state signals; return how many were not declared before.

        Idempotent and durable. Newly declared signals get per-state rollups
        built from their raw points now, and kept up to date by every write
        after, so ``state_durations`` may serve them from a rollup tier
        (decision 0017). Undeclared signals are always answered from raw.
        """
        ...


class PointReader(Protocol):
    def read_raw(self, query: RawQuery) -> tuple[pa.Table, Cursor | None]:
        """One page of raw points and the cursor of the next page (``None`` at the end)."""
        ...

    def latest(self, signal_ids: Sequence[int]) -> pa.Table:
        """The newest point of each signal that has any."""
        ...

    def aggregate(self, query: AggregateQuery, tier: Tier) -> pa.Table:
        """Time-bucket aggregates, computed from ``tier``.

        With a rollup tier, ``query.every`` is a multiple of the tier width;
        the parts of ``[start, end)`` that do not cover a whole rollup bucket
        are computed from raw points, so the answer equals the raw answer.
        """
        ...

    def state_durations(self, query: StateQuery) -> pa.Table:
        """Time in each state per bucket: every bucket of ``[start, min(end, now))``
        in which a state is in force (from a point in it or carried in)."""
        ...


class EventStore(Protocol):
    def read_events(self, query: EventQuery) -> list[Event]:
        """Events ordered by ``ts``; writing happens through ``PointWriter.write``."""
        ...


class Retention(Protocol):
    def delete_before(self, tier: Tier, cutoffs: Sequence[tuple[Micros, Sequence[int]]]) -> int:
        """Delete ``tier`` data older than each cutoff for its signals; return rows deleted."""
        ...


class HistorianBackend(
    SignalCatalog, PointWriter, StateTracking, PointReader, EventStore, Retention, Protocol
):
    """A storage engine: everything the service needs, opened and closed as one."""

    def close(self) -> None: ...

    def describe(self) -> str:
        """Where the data lives, for logs and errors (a file path or a URL without password)."""
        ...

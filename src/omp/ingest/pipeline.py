"""``Ingest``: the one way into omp.

``submit`` resolves bindings, converts units, validates every point, then
hands the good points to the historian writer (whose bounded queue applies
backpressure) and to the bus. Bad points are rejected one by one and counted
by reason; a bad point never takes its neighbours down with it.

Nothing accepted is dropped: when the historian queue stays full past the
caller's timeout, ``submit`` raises ``BackpressureError`` and accepts nothing
of that batch, so the caller still owns it (a connector leaves the message
unacknowledged, an import stops and says so).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from omp.bus import Bus
from omp.core.batch import PointBatch, SourceBatch, TextBatch
from omp.core.events import Event
from omp.core.quality import Quality
from omp.core.rejects import RejectReason
from omp.core.time import Clock, Micros, system_clock
from omp.ingest.tables import Resolution, Tables
from omp.ingest.validate import (
    OK,
    Checker,
    DatatypeCode,
    Reasons,
    check_numbers,
    check_text,
    check_times,
)
from omp.model import Registry

DEFAULT_MAX_FUTURE: Micros = 10 * 60 * 1_000_000
"""How far ahead of our clock a timestamp may be: generous device clock skew."""

UNMAPPED_LIMIT = 10_000
"""How many distinct unmapped source addresses are remembered (their counts keep growing)."""


class HistorianSink(Protocol):
    """Where accepted batches are stored; ``write`` blocks while its queue is full."""

    def write(self, batch: PointBatch | TextBatch, *, timeout: float | None = None) -> None: ...

    def write_events(self, events: Sequence[Event], *, timeout: float | None = None) -> None: ...


@dataclass(frozen=True, slots=True)
class SubmitReport:
    """What happened to one submitted batch.

    ``rejected_rows`` are row positions in the submitted batch, ``reasons``
    their ``RejectReason.code`` values, aligned.
    """

    accepted: int
    rejected_rows: npt.NDArray[np.int64]
    reasons: Reasons

    @property
    def rejected(self) -> int:
        return len(self.rejected_rows)

    def counts(self) -> dict[RejectReason, int]:
        codes, counts = np.unique(self.reasons, return_counts=True)
        return {RejectReason.from_code(int(c)): int(n) for c, n in zip(codes, counts, strict=True)}


@dataclass(frozen=True, slots=True)
class IngestStats:
    """Totals since start; ``unmapped`` counts points per unbound (connector, address)."""

    accepted: int
    rejected: Mapping[RejectReason, int]
    unmapped: Mapping[tuple[str, str], int] = field(default_factory=dict)
    model_version: str = ""
    rejected_sources: Mapping[tuple[str, str, RejectReason], int] = field(default_factory=dict)
    """Points decoders refused, per (connector, source such as a topic or node, reason)."""


class Ingest:
    """Resolve, validate, and hand on. Thread-safe: connectors submit from any thread."""

    def __init__(
        self,
        registry: Registry,
        *,
        historian: HistorianSink,
        bus: Bus,
        clock: Clock = system_clock,
        max_future: Micros = DEFAULT_MAX_FUTURE,
    ) -> None:
        self._tables = Tables(registry)
        self._historian = historian
        self._bus = bus
        self._clock = clock
        self._max_future = max_future
        self._lock = threading.Lock()
        self._accepted = 0
        self._rejected: Counter[RejectReason] = Counter()
        self._unmapped: Counter[tuple[str, str]] = Counter()
        self._reject_sources: Counter[tuple[str, str, RejectReason]] = Counter()

    def use_registry(self, registry: Registry) -> None:
        """Switch to a newly compiled model; in-flight submits finish on the old one."""
        self._tables = Tables(registry)

    def submit(
        self, batch: SourceBatch | PointBatch | TextBatch, *, timeout: float | None = None
    ) -> SubmitReport:
        """Validate and accept a batch; see the module docstring for the guarantees."""
        tables = self._tables
        if isinstance(batch, SourceBatch):
            resolved, reasons = self._resolve(tables, batch)
        else:
            resolved, reasons = batch, np.full(len(batch), OK, dtype=np.uint8)
        checker = Checker(reasons)
        self._check(tables, resolved, checker)
        good = checker.good
        # Taking the good rows also copies them: the batch waits in the historian's queue,
        # and a connector that reuses its read buffers must not rewrite accepted points.
        accepted = resolved.take(good)
        if len(accepted):
            self._historian.write(accepted, timeout=timeout)
            self._bus.publish(accepted)
        report = SubmitReport(
            len(accepted), np.flatnonzero(~good).astype(np.int64), checker.reasons[~good]
        )
        self._count(report)
        return report

    def submit_events(self, events: Sequence[Event], *, timeout: float | None = None) -> None:
        """Store and publish events (no per-event validation beyond their types)."""
        if events:
            self._historian.write_events(events, timeout=timeout)
            self._bus.publish_events(events)

    def record_rejects(
        self,
        reason: RejectReason,
        count: int = 1,
        *,
        connector: str | None = None,
        source: str | None = None,
    ) -> None:
        """Count points a decoder refused before they became a batch (malformed, naive time).

        ``connector`` and ``source`` (the topic, node or register at fault) are
        kept per reason for the first ``UNMAPPED_LIMIT`` distinct sources.
        """
        with self._lock:
            self._rejected[reason] += count
            if connector is not None:
                key = (connector, source or "", reason)
                if key in self._reject_sources or len(self._reject_sources) < UNMAPPED_LIMIT:
                    self._reject_sources[key] += count

    def stats(self) -> IngestStats:
        with self._lock:
            return IngestStats(
                self._accepted,
                dict(self._rejected),
                dict(self._unmapped),
                self._tables.registry.version,
                dict(self._reject_sources),
            )

    def _check(self, tables: Tables, batch: PointBatch | TextBatch, checker: Checker) -> None:
        datatype = tables.datatype_of(batch.signal_id)
        checker.mark(datatype == DatatypeCode.UNKNOWN, RejectReason.UNKNOWN_SIGNAL)
        check_times(checker, batch.ts, latest=self._clock() + self._max_future)
        checker.mark(batch.quality > Quality.BAD, RejectReason.INVALID_QUALITY)
        if isinstance(batch, TextBatch):
            check_text(checker, datatype)
            checker.mark(
                batch.value.is_null().to_numpy(zero_copy_only=False), RejectReason.WRONG_TYPE
            )
        else:
            check_numbers(checker, batch.value, datatype)

    def _resolve(
        self, tables: Tables, batch: SourceBatch
    ) -> tuple[PointBatch | TextBatch, Reasons]:
        units = batch.units or (None,) * len(batch.addresses)
        resolutions = [
            tables.resolve(batch.connector, address, unit)
            for address, unit in zip(batch.addresses, units, strict=True)
        ]
        per_address_id = np.array([r.signal_id for r in resolutions], dtype=np.int32)
        signal_id = per_address_id[batch.address_index]
        reasons = np.full(len(batch), OK, dtype=np.uint8)
        unbound = signal_id < 0
        if unbound.any():
            self._note_unbound(batch, resolutions, reasons)
        if isinstance(batch.value, pa.Array):
            return TextBatch(signal_id, batch.ts, batch.value, batch.quality), reasons
        values = batch.value
        if not all(r.is_identity for r in resolutions):
            scale = np.array([r.scale for r in resolutions])[batch.address_index]
            offset = np.array([r.offset for r in resolutions])[batch.address_index]
            values = values * scale + offset
        return PointBatch(signal_id, batch.ts, values, batch.quality), reasons

    def _note_unbound(
        self, batch: SourceBatch, resolutions: Sequence[Resolution], reasons: Reasons
    ) -> None:
        per_address = np.array(
            [
                OK
                if r.signal_id >= 0
                else (
                    RejectReason.INCOMPATIBLE_UNIT if r.unit_error else RejectReason.UNKNOWN_SIGNAL
                ).code
                for r in resolutions
            ],
            dtype=np.uint8,
        )
        reasons[:] = per_address[batch.address_index]
        points = np.bincount(batch.address_index, minlength=len(resolutions))
        with self._lock:
            for position, resolution in enumerate(resolutions):
                if resolution.signal_id >= 0 or resolution.unit_error:
                    continue
                key = (batch.connector, batch.addresses[position])
                if key in self._unmapped or len(self._unmapped) < UNMAPPED_LIMIT:
                    self._unmapped[key] += int(points[position])

    def _count(self, report: SubmitReport) -> None:
        counts = report.counts() if report.rejected else {}
        with self._lock:
            self._accepted += report.accepted
            self._rejected.update(counts)

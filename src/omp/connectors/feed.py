"""``Feed``: decoded values in, columnar ``SourceBatch``es out.

A connector registers each source address once (``address`` gives a small
integer) and then appends plain numbers per value; nothing per point is an
object beyond the decoder's own. ``flush`` compacts the pending rows into
one numeric and one text batch that name only the addresses they use, and
submits them to the ``ConnectorSink``. The host flushes every few
milliseconds; a connector flushes early with ``flush_if_full``.

A feed belongs to one event loop (its connector's) and is not thread-safe.
When the sink applies backpressure, ``flush`` raises ``BackpressureError``
and keeps every pending row, so nothing accepted from a device is lost; the
connector stops reading (and acknowledging) until a flush succeeds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from omp.core.batch import SourceBatch
from omp.core.events import Event
from omp.core.quality import Quality
from omp.core.rejects import RejectReason
from omp.core.sink import ConnectorSink

DEFAULT_MAX_POINTS = 20_000
"""Pending rows at which ``flush_if_full`` submits without waiting for the host's tick."""


class Feed:
    """The pending rows of one connector; see the module docstring."""

    def __init__(
        self, connector: str, sink: ConnectorSink, *, max_points: int = DEFAULT_MAX_POINTS
    ) -> None:
        self.connector = connector
        self._sink = sink
        self.max_points = max_points
        self._index: dict[tuple[str, str | None], int] = {}
        self._addresses: list[str] = []
        self._units: list[str | None] = []
        # Parallel columns of pending numeric rows; connectors may append to them directly
        # through ``add`` (one call) or, on very hot paths, through bound ``append``s. Rows
        # appended directly are GOOD; ``add`` notes the rows that are not (nearly all rows are
        # GOOD, so a quality column per row would cost every value an append and a conversion).
        self.rows_address: list[int] = []
        self.rows_ts: list[int] = []
        self.rows_value: list[float] = []
        self._not_good: list[tuple[int, int]] = []
        """(row, quality) of the pending numeric rows that are not GOOD."""
        self.ts_unit = 1
        """Microseconds per unit of the timestamps given to this feed: a connector whose
        protocol counts milliseconds (Sparkplug) sets 1000 and hands them over unscaled; the
        conversion is done once per batch."""
        self._text: tuple[list[int], list[int], list[str | None], list[int]] = ([], [], [], [])
        self.submitted = 0
        self._all: tuple[int, tuple[str, ...], tuple[str | None, ...] | None] | None = None
        """(address count, addresses, units) when a batch last used every address: reused
        while nothing was added, so steady polling builds no tuples per flush."""

    def address(self, address: str, unit: str | None = None) -> int:
        """The stable index of ``address`` as reported in ``unit`` (UCUM, or None)."""
        key = (address, unit)
        index = self._index.get(key)
        if index is None:
            index = self._index[key] = len(self._addresses)
            self._addresses.append(address)
            self._units.append(unit)
        return index

    def add(self, index: int, ts: int, value: float, quality: int = Quality.GOOD) -> None:
        """One numeric (or bool, or state code) value at ``ts`` (``ts_unit`` µs since epoch)."""
        if quality:
            self._not_good.append((len(self.rows_address), quality))
        self.rows_address.append(index)
        self.rows_ts.append(ts)
        self.rows_value.append(value)

    def add_text(self, index: int, ts: int, value: str | None, quality: int = Quality.GOOD) -> None:
        """One text value at ``ts`` (``ts_unit`` µs); None is stored as a rejected wrong-type
        row by ingest."""
        rows_address, rows_ts, rows_value, rows_quality = self._text
        rows_address.append(index)
        rows_ts.append(ts)
        rows_value.append(value)
        rows_quality.append(quality)

    @property
    def pending(self) -> int:
        return len(self.rows_address) + len(self._text[0])

    def flush_if_full(self) -> None:
        if self.pending >= self.max_points:
            self.flush()

    def flush(self) -> int:
        """Submit everything pending; returns the rows submitted.

        Raises ``BackpressureError`` (rows kept) when the sink is full.
        """
        submitted = 0
        if self.rows_address:
            batch = self._numeric_batch()
            self._sink.submit(batch)
            submitted += len(batch)
            self.rows_address.clear()
            self.rows_ts.clear()
            self.rows_value.clear()
            self._not_good.clear()
        if self._text[0]:
            batch = self._text_batch()
            self._sink.submit(batch)
            submitted += len(batch)
            for text_column in self._text:
                text_column.clear()
        self.submitted += submitted
        return submitted

    def events(self, events: Sequence[Event]) -> None:
        """Hand events (state changes, alarms) straight to the sink."""
        if events:
            self._sink.submit_events(events)

    def reject(self, reason: RejectReason, count: int = 1, *, source: str) -> None:
        """Count input refused before it became a row, naming the topic, node or register."""
        self._sink.record_rejects(reason, count, connector=self.connector, source=source)

    def _numeric_batch(self) -> SourceBatch:
        index = np.array(self.rows_address, dtype=np.int32)
        addresses, units, local = self._compact(index)
        quality = np.zeros(len(index), dtype=np.uint8)  # Quality.GOOD is 0
        if self._not_good:
            rows, codes = zip(*self._not_good, strict=True)
            quality[list(rows)] = codes
        return SourceBatch.of(
            self.connector,
            addresses,
            local,
            self._timestamps(self.rows_ts),
            np.array(self.rows_value, dtype=np.float64),
            quality,
            units=units,
        )

    def _timestamps(self, ts: list[int]) -> np.ndarray:
        micros = np.array(ts, dtype=np.int64)
        if self.ts_unit != 1:
            micros *= self.ts_unit
        return micros

    def _text_batch(self) -> SourceBatch:
        rows_address, rows_ts, rows_value, rows_quality = self._text
        addresses, units, local = self._compact(np.array(rows_address, dtype=np.int32))
        return SourceBatch.of(
            self.connector,
            addresses,
            local,
            self._timestamps(rows_ts),
            pa.array(rows_value, type=pa.string()),
            np.array(rows_quality, dtype=np.uint8),
            units=units,
        )

    def _compact(
        self, index: np.ndarray
    ) -> tuple[tuple[str, ...], tuple[str | None, ...] | None, np.ndarray]:
        """Only the addresses this batch uses, and the rows re-indexed into them."""
        present = np.zeros(len(self._addresses), dtype=bool)
        present[index] = True
        if present.all():
            return (*self._every_address(), index)
        used = np.flatnonzero(present)
        remap = np.zeros(len(self._addresses), dtype=np.int32)
        remap[used] = np.arange(len(used), dtype=np.int32)
        addresses = tuple(self._addresses[i] for i in used)
        units = tuple(self._units[i] for i in used)
        return addresses, units if any(u is not None for u in units) else None, remap[index]

    def _every_address(self) -> tuple[tuple[str, ...], tuple[str | None, ...] | None]:
        count = len(self._addresses)
        if self._all is None or self._all[0] != count:
            units = tuple(self._units)
            self._all = (count, tuple(self._addresses), units if any(units) else None)
        return self._all[1], self._all[2]

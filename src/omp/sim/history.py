"""``HistoryWriter``: frames into the platform as history, for backfill.

``omp demo`` runs the simulation faster than real time over a stretch of the
past so charts and KPIs are not empty on first start. The frames do not go
over the protocols (that would take as long as the past did); they go
straight into the platform's point sink (ingest) by signal id, as a
historian import would.

What is written mirrors what the connectors would have delivered, thinned
the way a plant's history usually is: states, counters and text when they
change (so KPIs from history are exact), measurements every ``sample`` of
simulated time. Events (state changes, orders, shifts) are written as they
come.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pyarrow as pa

from omp.core.batch import PointBatch, TextBatch
from omp.core.events import Event
from omp.core.sink import PointSink
from omp.core.time import US_PER_SECOND, Micros
from omp.sim.catalog import SignalKind
from omp.sim.frame import Frame
from omp.sim.plant import Plant

DEFAULT_SAMPLE = 10 * US_PER_SECOND
BATCH_POINTS = 200_000


class _Columns:
    """One machine's signals split by how they are written, with their signal ids."""

    __slots__ = ("exact", "exact_ids", "measured", "measured_ids", "text", "text_ids")

    def __init__(self, positions: Iterable[tuple[int, SignalKind, int]]) -> None:
        self.exact: list[int] = []
        self.exact_ids: list[int] = []
        self.measured: list[int] = []
        self.measured_ids: list[int] = []
        self.text: list[int] = []
        self.text_ids: list[int] = []
        for position, kind, signal_id in positions:
            if kind is SignalKind.TEXT:
                self.text.append(position)
                self.text_ids.append(signal_id)
            elif kind is SignalKind.MEASUREMENT or kind is SignalKind.SETPOINT:
                self.measured.append(position)
                self.measured_ids.append(signal_id)
            else:
                self.exact.append(position)
                self.exact_ids.append(signal_id)


class HistoryWriter:
    """Writes frames to ``sink`` by signal id; see the module docstring.

    ``ids`` maps signal paths (``<enterprise>/<machine path>/<signal>``, as the
    demo model names them) to ids; a machine signal missing from it is an
    error at construction, naming the path.
    """

    def __init__(
        self,
        plant: Plant,
        ids: Mapping[str, int],
        sink: PointSink,
        *,
        sample: Micros = DEFAULT_SAMPLE,
        batch_points: int = BATCH_POINTS,
    ) -> None:
        if sample <= 0:
            raise ValueError(f"history sample interval must be positive, got {sample}")
        self._sink = sink
        self._sample = sample
        self._batch_points = batch_points
        self._columns: list[_Columns] = []
        for machine in plant.machines:
            prefix = f"{plant.enterprise}/{machine.path}/"
            positions = []
            for position, signal in enumerate(machine.kind.signals):
                path = prefix + signal.name
                if path not in ids:
                    raise KeyError(f"the model has no signal {path!r} for the simulated plant")
                positions.append((position, signal.kind, ids[path]))
            self._columns.append(_Columns(positions))
        self._last: list[list[object] | None] = [None] * len(plant.machines)
        self._ids: list[int] = []
        self._ts: list[int] = []
        self._values: list[float] = []
        self._text: tuple[list[int], list[int], list[str]] = ([], [], [])
        self._events: list[Event] = []
        self.points = 0
        self.events = 0

    def add(self, frame: Frame) -> None:
        """Take one frame; flushes by itself every ``batch_points`` rows."""
        ts = frame.ts
        sampled = ts % self._sample == 0
        ids, stamps, values = self._ids, self._ts, self._values
        text_ids, text_ts, text_values = self._text
        for index, row in enumerate(frame.values):
            columns = self._columns[index]
            last = self._last[index]
            for position, signal_id in zip(columns.exact, columns.exact_ids, strict=True):
                value = row[position]
                if last is None or last[position] != value:
                    ids.append(signal_id)
                    stamps.append(ts)
                    values.append(float(value))
            if sampled:
                for position, signal_id in zip(columns.measured, columns.measured_ids, strict=True):
                    ids.append(signal_id)
                    stamps.append(ts)
                    values.append(float(row[position]))
            for position, signal_id in zip(columns.text, columns.text_ids, strict=True):
                value = row[position]
                if last is None or last[position] != value:
                    text_ids.append(signal_id)
                    text_ts.append(ts)
                    text_values.append(str(value))
            self._last[index] = list(row)
        self._events.extend(frame.events)
        if len(ids) + len(text_ids) >= self._batch_points:
            self.flush()

    def flush(self) -> None:
        """Hand everything pending to the sink (which may block under backpressure)."""
        if self._ids:
            self._sink.submit(
                PointBatch.of(
                    np.array(self._ids, dtype=np.int32),
                    np.array(self._ts, dtype=np.int64),
                    np.array(self._values, dtype=np.float64),
                )
            )
            self.points += len(self._ids)
            self._ids.clear()
            self._ts.clear()
            self._values.clear()
        text_ids, text_ts, text_values = self._text
        if text_ids:
            self._sink.submit(
                TextBatch.of(
                    np.array(text_ids, dtype=np.int32),
                    np.array(text_ts, dtype=np.int64),
                    pa.array(text_values, type=pa.string()),
                )
            )
            self.points += len(text_ids)
            for column in self._text:
                column.clear()
        if self._events:
            self._sink.submit_events(self._events)
            self.events += len(self._events)
            self._events = []

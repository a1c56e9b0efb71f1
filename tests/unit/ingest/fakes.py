"""Fakes for ingest tests: a tiny registry and a recording historian sink."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from omp.core.batch import PointBatch, TextBatch
from omp.core.errors import BackpressureError, ConfigError
from omp.core.events import Event


@dataclass(frozen=True)
class FakeSignal:
    id: int
    datatype: str
    unit: str | None = None


@dataclass(frozen=True)
class FakeBinding:
    signal_id: int
    source_unit: str | None = None


_CONVERSIONS = {("[degF]", "Cel"): (5 / 9, -32 * 5 / 9), ("bar", "kPa"): (100.0, 0.0)}


@dataclass
class FakeRegistry:
    signals: list[FakeSignal]
    bindings: dict[str, dict[str, FakeBinding]] = field(default_factory=dict)
    version: str = "v-test"

    def all_signals(self) -> Sequence[FakeSignal]:
        return self.signals

    def bindings_of(self, connector: str) -> Mapping[str, FakeBinding]:
        return self.bindings.get(connector, {})

    def conversion(self, source_unit: str, target_unit: str) -> tuple[float, float]:
        try:
            return _CONVERSIONS[(source_unit, target_unit)]
        except KeyError:
            raise ConfigError(f"cannot convert {source_unit} to {target_unit}") from None


class RecordingHistorian:
    """Records writes; with ``capacity`` it refuses (like a full queue) once that many are held."""

    def __init__(self, capacity: int | None = None) -> None:
        self.batches: list[PointBatch | TextBatch] = []
        self.events: list[Event] = []
        self.capacity = capacity
        self.lock = threading.Lock()

    def write(self, batch: PointBatch | TextBatch, *, timeout: float | None = None) -> None:
        with self.lock:
            if self.capacity is not None and len(self.batches) >= self.capacity:
                raise BackpressureError(f"historian queue full for {timeout} s")
            self.batches.append(batch)

    def write_events(self, events: Sequence[Event], *, timeout: float | None = None) -> None:
        self.events.extend(events)

"""Shared pieces for runtime unit tests: the example model, compiled in memory."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from omp.core.batch import PointBatch, TextBatch
from omp.core.events import Event
from omp.model import Registry, compile_model, load_model
from omp.runtime.ids import CountingIds

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "factory.yaml"
MILL = "acme/munich/machining/line_1/milling/mill_01"


@pytest.fixture(scope="session")
def registry() -> Registry:
    return compile_model(load_model(EXAMPLE), ids=CountingIds())


class RecordingHistorian:
    """A historian sink that keeps what it was given (ingest's only downstream here)."""

    def __init__(self) -> None:
        self.batches: list[PointBatch | TextBatch] = []
        self.events: list[Event] = []
        self.flushes = 0

    def write(self, batch: PointBatch | TextBatch, *, timeout: float | None = None) -> None:
        self.batches.append(batch)

    def write_events(self, events: Sequence[Event], *, timeout: float | None = None) -> None:
        self.events.extend(events)

    def flush(self) -> None:
        self.flushes += 1

    def points(self) -> list[PointBatch]:
        return [b for b in self.batches if isinstance(b, PointBatch)]

    def texts(self) -> list[TextBatch]:
        return [b for b in self.batches if isinstance(b, TextBatch)]

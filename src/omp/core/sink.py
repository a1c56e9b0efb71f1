"""The small interfaces that let lower layers hand work upward without importing it.

A connector emits into a ``PointSink`` and never knows the ingest pipeline;
the runtime wires the pipeline in, tests wire in a recording fake. The model
compiler asks a ``SignalIdSource`` for stable ids and never knows the historian.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from omp.core.batch import PointBatch, SourceBatch, TextBatch
from omp.core.events import Event
from omp.core.rejects import RejectReason


class PointSink(Protocol):
    """Where batches go. ``submit`` may block while the pipeline applies backpressure.

    What ``submit`` returns (ingest returns a report of rejects) is the
    implementation's business; a connector needs only that it did not raise.
    """

    def submit(self, batch: SourceBatch | PointBatch | TextBatch) -> object: ...

    def submit_events(self, events: Sequence[Event]) -> None: ...


class ConnectorSink(PointSink, Protocol):
    """What a connector emits into: batches, events, and counts of input it could not decode."""

    def record_rejects(
        self,
        reason: RejectReason,
        count: int = 1,
        *,
        connector: str | None = None,
        source: str | None = None,
    ) -> None:
        """Count ``count`` points refused for ``reason`` at ``source`` (a topic, node, register)."""
        ...


class SignalIdSource(Protocol):
    """Hands out stable integer ids for signal paths.

    The same path always gets the same id, across restarts and model edits.
    """

    def ensure_ids(self, paths: Sequence[str]) -> Mapping[str, int]: ...

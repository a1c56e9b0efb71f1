"""Small helpers shared by the conformance tests."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from omp.core.batch import PointBatch, TextBatch
from omp.core.time import US_PER_SECOND, parse_rfc3339
from omp.historian.backend import HistorianBackend
from omp.historian.types import WriteStats

T0 = parse_rfc3339("2026-03-02T00:00:00Z")
"""A Monday midnight, aligned to every bucket width used in the suite."""
S = US_PER_SECOND
M = 60 * S
H = 60 * M


def write_points(
    backend: HistorianBackend,
    signal_ids: Sequence[int],
    ts: Sequence[int],
    values: Sequence[float],
    quality: Sequence[int] | None = None,
) -> WriteStats:
    return backend.write(PointBatch.of(signal_ids, ts, values, quality), None, ())


def write_text(
    backend: HistorianBackend, signal_ids: Sequence[int], ts: Sequence[int], values: Sequence[str]
) -> WriteStats:
    return backend.write(PointBatch.empty(), TextBatch.of(signal_ids, ts, values), ())


def rows(table: pa.Table) -> list[dict[str, object]]:
    return table.to_pylist()


def ids(backend: HistorianBackend, *names: str) -> list[int]:
    mapping = backend.ensure_ids([f"acme/plant/line_1/{n}" for n in names])
    return [mapping[f"acme/plant/line_1/{n}"] for n in names]

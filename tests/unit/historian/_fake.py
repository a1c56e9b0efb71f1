"""An in-memory ``HistorianBackend`` that records calls, for service tests."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

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


class FakeClock:
    def __init__(self, now: Micros = 1_000_000_000) -> None:
        self.now = now

    def __call__(self) -> Micros:
        return self.now


class FakeBackend:
    """Stores writes in lists. ``fail_next`` writes raise; ``gate`` (when cleared) blocks writes."""

    def __init__(self) -> None:
        self.writes: list[tuple[PointBatch, TextBatch | None, tuple[Event, ...]]] = []
        self.fail_next = 0
        self.fail_forever = False
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.written = threading.Event()
        self.threads: list[str] = []
        self.tiers: list[Tier] = []
        self.aggregate_queries: list[AggregateQuery] = []
        self.deletes: list[tuple[Tier, list[tuple[Micros, list[int]]]]] = []
        self.ids: dict[str, int] = {}
        self.tracked: set[int] = set()
        self.closed = False

    def ensure_ids(self, paths: Sequence[str]) -> Mapping[str, int]:
        self.threads.append(threading.current_thread().name)
        for p in paths:
            self.ids.setdefault(p, len(self.ids) + 1)
        return {p: self.ids[p] for p in paths}

    def signal_ids(self) -> Mapping[str, int]:
        return dict(self.ids)

    def track_states(self, signal_ids: Sequence[int]) -> int:
        self.threads.append(threading.current_thread().name)
        new = set(signal_ids) - self.tracked
        self.tracked |= new
        return len(new)

    def write(
        self, points: PointBatch, text: TextBatch | None, events: Sequence[Event]
    ) -> WriteStats:
        self.entered.set()
        self.gate.wait()
        if self.fail_forever or self.fail_next:
            self.fail_next = max(0, self.fail_next - 1)
            raise OSError("disk on fire")
        self.threads.append(threading.current_thread().name)
        self.writes.append((points, text, tuple(events)))
        self.written.set()
        return WriteStats(
            points=len(points), text=len(text) if text else 0, events=len(events), duplicates=1
        )

    def points_written(self) -> list[int]:
        return [int(t) for p, _, _ in self.writes for t in p.ts]

    def read_raw(self, query: RawQuery) -> tuple[pa.Table, Cursor | None]:
        return pa.table({"ts": [query.start]}), None

    def latest(self, signal_ids: Sequence[int]) -> pa.Table:
        return pa.table({"signal_id": list(signal_ids)})

    def aggregate(self, query: AggregateQuery, tier: Tier) -> pa.Table:
        self.tiers.append(tier)
        self.aggregate_queries.append(query)
        return pa.table({"bucket": [query.start]})

    def state_durations(self, query: StateQuery) -> pa.Table:
        return pa.table({"bucket": [query.start]})

    def read_events(self, query: EventQuery) -> list[Event]:
        return []

    def delete_before(self, tier: Tier, cutoffs: Sequence[tuple[Micros, Sequence[int]]]) -> int:
        self.threads.append(threading.current_thread().name)
        self.deletes.append((tier, [(c, list(ids)) for c, ids in cutoffs]))
        return sum(len(ids) for _, ids in cutoffs)

    def close(self) -> None:
        self.closed = True

    def describe(self) -> str:
        return "fake:memory"

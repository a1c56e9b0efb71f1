"""The publisher's backlog: the latest value per signal, released when its rate allows.

Memory is bounded by the number of signals: a value that arrives while the
previous one of its signal still waits replaces it (counted as coalesced).
A signal with a minimum interval opens a window at its first pending value
and is released once, with the latest value, when the window ends -- so a
burst of values becomes one publish, never a burst of publishes.

Only the publisher thread uses a ``Backlog``; batches reach it via ``Handoff``.

>>> import numpy as np
>>> from omp.core.batch import PointBatch
>>> backlog = Backlog({1: 0, 2: 1_000_000})
>>> backlog.fold(PointBatch.of([1, 1, 2, 2], [10, 20, 10, 20], [1.0, 2.0, 5.0, 6.0]), now=0)
>>> [(sid, value) for sid, _, value, _ in backlog.take_due(now=0)], backlog.coalesced
([(1, 2.0)], 2)
>>> [(sid, value) for sid, _, value, _ in backlog.take_due(now=1_000_000)]
[(2, 6.0)]
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping

import numpy as np

from omp.core.batch import PointBatch, TextBatch
from omp.core.time import Micros

Pending = tuple[int, Micros, float | str, int]
"""(signal id, ts, value, quality) of a value waiting to be published."""


class Backlog:
    """Latest value per signal plus per-signal rate windows (monotonic microseconds)."""

    def __init__(self, min_interval: Mapping[int, Micros]) -> None:
        self._min_interval = min_interval
        self._latest: dict[int, tuple[Micros, float | str, int]] = {}
        self._ready: list[int] = []
        self._windows: list[tuple[Micros, int]] = []
        self._in_window: set[int] = set()
        self.coalesced = 0
        self.unknown = 0
        """Points of signal ids the model does not know (skipped)."""

    def __len__(self) -> int:
        return len(self._latest)

    def set_intervals(self, min_interval: Mapping[int, Micros]) -> None:
        """New signals and limits (a model reload); windows already open run to their end."""
        self._min_interval = min_interval

    def fold(self, batch: PointBatch | TextBatch, *, now: Micros) -> None:
        """Take the last point per signal of ``batch``; older ones are coalesced."""
        if len(batch) == 0:
            return
        ids, last = _last_per_signal(batch.signal_id)
        self.coalesced += len(batch) - len(ids)
        if isinstance(batch, TextBatch):
            values: list[float | str] = batch.value.take(last).to_pylist()
        else:
            values = batch.value[last].tolist()
        for sid, ts, value, quality in zip(
            ids.tolist(), batch.ts[last].tolist(), values, batch.quality[last].tolist(), strict=True
        ):
            self._put(sid, ts, value, quality, now)

    def _put(self, sid: int, ts: Micros, value: float | str, quality: int, now: Micros) -> None:
        interval = self._min_interval.get(sid)
        if interval is None:
            self.unknown += 1
            return
        if sid in self._latest:
            self.coalesced += 1
        elif interval == 0:
            self._ready.append(sid)
        elif sid not in self._in_window:
            self._in_window.add(sid)
            heapq.heappush(self._windows, (now + interval, sid))
        self._latest[sid] = (ts, value, quality)

    def take_due(self, *, now: Micros) -> list[Pending]:
        """The values that may be published at ``now``; they leave the backlog."""
        due, self._ready = self._ready, []
        while self._windows and self._windows[0][0] <= now:
            _, sid = heapq.heappop(self._windows)
            self._in_window.discard(sid)
            due.append(sid)
        taken: list[Pending] = []
        for sid in due:
            entry = self._latest.pop(sid, None)
            if entry is not None:
                taken.append((sid, *entry))
        return taken

    def next_due(self) -> Micros | None:
        """When the earliest open window ends (None: nothing waits on a window)."""
        return self._windows[0][0] if self._windows else None


def _last_per_signal(signal_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct signal ids and, for each, the row of its last point."""
    reversed_ids = signal_ids[::-1]
    ids, first_in_reversed = np.unique(reversed_ids, return_index=True)
    return ids, len(signal_ids) - 1 - first_in_reversed

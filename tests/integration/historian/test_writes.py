"""Replay-safe writes: the first write of ``(signal_id, ts)`` wins."""

from __future__ import annotations

import pytest

from omp.core.batch import PointBatch
from omp.core.errors import HistorianError
from omp.core.events import Event, EventKind
from omp.historian.backend import HistorianBackend
from omp.historian.types import Agg, AggregateQuery, RawQuery, Tier
from tests.integration.historian._helpers import T0, M, S, ids, rows, write_points, write_text
from tests.integration.historian.conftest import BackendFactory


def _all(backend: HistorianBackend, signal_ids: list[int]) -> list[dict[str, object]]:
    table, cursor = backend.read_raw(RawQuery(tuple(signal_ids), 0, T0 * 2, limit=100_000))
    assert cursor is None
    return rows(table)


def test_replay_does_not_duplicate_or_rewrite(backend: HistorianBackend) -> None:
    (a,) = ids(backend, "temp")
    stats = write_points(backend, [a, a, a], [T0, T0 + S, T0 + 2 * S], [1.0, 2.0, 3.0])
    assert (stats.points, stats.duplicates) == (3, 0)
    replay = write_points(backend, [a, a, a], [T0, T0 + S, T0 + 3 * S], [9.0, 9.0, 4.0])
    assert (replay.points, replay.duplicates) == (1, 2)
    stored = _all(backend, [a])
    assert [(r["ts"], r["value"]) for r in stored] == [
        (T0, 1.0),
        (T0 + S, 2.0),
        (T0 + 2 * S, 3.0),
        (T0 + 3 * S, 4.0),
    ]


def test_first_occurrence_in_a_batch_wins(backend: HistorianBackend) -> None:
    a, b = ids(backend, "a", "b")
    stats = write_points(backend, [a, b, a, a], [T0, T0, T0, T0 + S], [1.0, 5.0, 2.0, 3.0])
    assert (stats.points, stats.duplicates) == (3, 1)
    assert [(r["signal_id"], r["value"]) for r in _all(backend, [a, b])] == [
        (a, 1.0),
        (b, 5.0),
        (a, 3.0),
    ]


def test_late_points_below_the_newest_are_stored_once(backend: HistorianBackend) -> None:
    (a,) = ids(backend, "late")
    write_points(backend, [a, a], [T0 + 10 * S, T0 + 20 * S], [1.0, 2.0])
    late = write_points(backend, [a, a, a], [T0 + 15 * S, T0 + 10 * S, T0 + 5 * S], [7, 8, 9])
    assert (late.points, late.duplicates) == (2, 1)
    again = write_points(backend, [a, a], [T0 + 15 * S, T0 + 5 * S], [0.0, 0.0])
    assert (again.points, again.duplicates) == (0, 2)
    assert [r["value"] for r in _all(backend, [a])] == [9.0, 1.0, 7.0, 2.0]


def test_replay_after_reopen_does_not_duplicate(backend_factory: BackendFactory) -> None:
    backend = backend_factory()
    (a,) = ids(backend, "restart")
    write_points(backend, [a] * 3, [T0, T0 + S, T0 + 2 * S], [1.0, 2.0, 3.0])
    backend.close()
    reopened = backend_factory()
    stats = write_points(reopened, [a] * 4, [T0, T0 + S, T0 + 2 * S, T0 + 3 * S], [0, 0, 0, 4.0])
    assert (stats.points, stats.duplicates) == (1, 3)
    assert [r["value"] for r in _all(reopened, [a])] == [1.0, 2.0, 3.0, 4.0]
    reopened.close()


def test_text_points_are_replay_safe(backend: HistorianBackend) -> None:
    (t,) = ids(backend, "order_id")
    first = write_text(backend, [t, t], [T0, T0 + S], ["A-1", "A-2"])
    assert (first.text, first.duplicates) == (2, 0)
    replay = write_text(backend, [t, t], [T0 + S, T0 + 2 * S], ["X", "A-3"])
    assert (replay.text, replay.duplicates) == (1, 1)
    assert [r["text"] for r in _all(backend, [t])] == ["A-1", "A-2", "A-3"]


def test_quality_is_stored(backend: HistorianBackend) -> None:
    (a,) = ids(backend, "q")
    write_points(backend, [a, a], [T0, T0 + S], [1.0, 2.0], [0, 2])
    assert [r["quality"] for r in _all(backend, [a])] == [0, 2]


def test_a_failed_write_leaves_nothing_behind(backend: HistorianBackend) -> None:
    (a,) = ids(backend, "atomic")
    write_points(backend, [a], [T0], [1.0])
    bad = Event(T0, "acme/m", EventKind.QUALITY, "lot", attributes={"x": object()})
    batch = PointBatch.of([a, a], [T0 + S, T0 + 2 * S], [2.0, 3.0])
    with pytest.raises((ValueError, TypeError, HistorianError)):
        backend.write(batch, None, [bad])
    assert [r["value"] for r in _all(backend, [a])] == [1.0]
    q = AggregateQuery((a,), T0, T0 + M, M, (Agg.COUNT,))
    assert rows(backend.aggregate(q, Tier.MINUTE)) == [{"signal_id": a, "bucket": T0, "count": 1.0}]
    again = backend.write(batch, None, ())
    assert (again.points, again.duplicates) == (2, 0)
    assert rows(backend.aggregate(q, Tier.MINUTE))[0]["count"] == 3.0

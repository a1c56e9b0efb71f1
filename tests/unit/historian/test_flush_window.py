"""The flush window and the coalescing of queued items (pure parts of the writer)."""

from __future__ import annotations

import pyarrow as pa

from omp.core.batch import PointBatch, TextBatch
from omp.core.events import Event, EventKind
from omp.historian.writer import FlushWindow, Group

WINDOW = FlushWindow(interval=1_000_000, points=100)


def test_nothing_queued_is_never_due() -> None:
    assert not WINDOW.due(queued=0, oldest=None, now=10**12)
    assert WINDOW.wait_seconds(oldest=None, now=0, tick=0.05) == 0.05


def test_due_after_the_interval_or_at_the_point_count() -> None:
    assert not WINDOW.due(queued=99, oldest=0, now=999_999)
    assert WINDOW.due(queued=99, oldest=0, now=1_000_000)
    assert WINDOW.due(queued=100, oldest=0, now=1)


def test_wait_is_capped_by_the_tick_and_never_negative() -> None:
    assert WINDOW.wait_seconds(oldest=0, now=0, tick=0.05) == 0.05
    assert WINDOW.wait_seconds(oldest=0, now=990_000, tick=0.05) == 0.01
    assert WINDOW.wait_seconds(oldest=0, now=2_000_000, tick=0.05) == 0.0


def test_group_coalesces_points_text_and_events_in_queue_order() -> None:
    group = Group()
    group.add(PointBatch.of([1, 2], [10, 10], [1.0, 2.0]), seq=1)
    group.add(TextBatch.of([3], [10], pa.array(["a"], type=pa.large_string())), seq=2)
    group.add((Event(10, "acme/m", EventKind.SHIFT, "early"),), seq=3)
    group.add(PointBatch.of([1], [11], [3.0]), seq=4)
    group.add(TextBatch.of([3], [11], ["b"]), seq=5)
    points, text = group.point_batch(), group.text_batch()
    assert list(points.signal_id) == [1, 2, 1]
    assert list(points.value) == [1.0, 2.0, 3.0]
    assert text is not None
    assert text.value.to_pylist() == ["a", "b"]
    assert [e.name for e in group.events] == ["early"]
    assert (group.size, group.last_seq) == (6, 5)


def test_empty_group_has_empty_batches() -> None:
    group = Group()
    assert len(group.point_batch()) == 0
    assert group.text_batch() is None

"""The backlog and the hand-over on their own: coalescing, windows, bounds."""

from __future__ import annotations

from omp.connectors.uns.backlog import Backlog
from omp.connectors.uns.handoff import Handoff
from omp.core.batch import PointBatch, TextBatch
from omp.core.events import Event, EventKind

SECOND = 1_000_000


def test_text_values_keep_the_last_per_signal() -> None:
    backlog = Backlog({7: 0})
    backlog.fold(TextBatch.of([7, 7, 7], [1, 2, 3], ["a", "b", "c"]), now=0)
    assert backlog.take_due(now=0) == [(7, 3, "c", 0)]
    assert backlog.coalesced == 2


def test_unknown_signal_ids_are_counted_not_published() -> None:
    backlog = Backlog({1: 0})
    backlog.fold(PointBatch.of([1, 99], [1, 1], [1.0, 2.0]), now=0)
    assert [sid for sid, *_ in backlog.take_due(now=0)] == [1]
    assert backlog.unknown == 1


def test_a_window_opens_at_the_first_value_and_releases_once_at_its_end() -> None:
    backlog = Backlog({1: SECOND})
    backlog.fold(PointBatch.of([1], [10], [1.0]), now=0)
    backlog.fold(PointBatch.of([1], [20], [2.0]), now=SECOND // 2)
    assert backlog.take_due(now=SECOND - 1) == []
    assert backlog.next_due() == SECOND
    assert backlog.take_due(now=SECOND) == [(1, 20, 2.0, 0)]
    assert backlog.take_due(now=3 * SECOND) == []  # nothing new: no publish
    backlog.fold(PointBatch.of([1], [30], [3.0]), now=3 * SECOND)  # opens a new window
    assert backlog.next_due() == 4 * SECOND


def test_memory_is_bounded_by_signals_when_the_publisher_stalls() -> None:
    backlog = Backlog({1: 0, 2: 0})
    handoff = Handoff(backlog, clock=lambda: 0, max_batches=3)
    for n in range(100):  # nobody takes: the ingest side folds once the mailbox is full
        handoff.put_batch(PointBatch.of([1, 2], [n, n], [n, n]))
    assert len(backlog) == 2
    due, _ = handoff.take_due()
    assert sorted(due) == [(1, 99, 99.0, 0), (2, 99, 99.0, 0)]
    assert backlog.coalesced == 198


def test_the_waker_is_called_once_until_the_publisher_rearms() -> None:
    calls: list[int] = []
    handoff = Handoff(Backlog({1: 0}), clock=lambda: 0)
    handoff.set_wake(lambda: calls.append(1))
    for _ in range(5):
        handoff.put_batch(PointBatch.of([1], [1], [1.0]))
    handoff.rearm()
    handoff.put_batch(PointBatch.of([1], [2], [2.0]))
    assert len(calls) == 2


def test_events_beyond_the_backlog_drop_the_oldest_and_are_counted() -> None:
    handoff = Handoff(Backlog({}), clock=lambda: 0, max_events=3)
    events = [Event(ts=n, asset="a/b", kind=EventKind.ALARM, name=f"e{n}") for n in range(5)]
    handoff.put_events(events[:2])
    handoff.put_events(events[2:])
    assert [e.name for e in handoff.take_events()] == ["e2", "e3", "e4"]
    assert handoff.events_dropped == 2

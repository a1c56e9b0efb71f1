"""The historian service on a fake backend: queue, flush window, backpressure, retries, stop."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from omp.core.batch import PointBatch, TextBatch
from omp.core.errors import (
    BackpressureError,
    HistorianClosedError,
    HistorianError,
    HistorianTimeoutError,
)
from omp.core.events import Event, EventKind
from omp.historian.service import Historian
from omp.historian.types import (
    Agg,
    AggregateQuery,
    RetentionPolicy,
    RetentionRule,
    Tier,
)
from tests.unit.historian._fake import FakeBackend, FakeClock

WAIT = 10.0  # seconds a test waits for the writer thread before failing


def _points(*ts: int, sid: int = 1) -> PointBatch:
    return PointBatch.of([sid] * len(ts), list(ts), [1.0] * len(ts))


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def historian(backend: FakeBackend, clock: FakeClock) -> Iterator[Historian]:
    service = Historian(backend, clock=clock, flush_interval=10**9, flush_points=1_000)
    service.start()
    yield service
    backend.gate.set()
    backend.fail_forever = False
    service.stop(timeout=WAIT)


def test_flush_coalesces_queued_batches_into_one_write(
    historian: Historian, backend: FakeBackend
) -> None:
    historian.write(_points(1, 2))
    historian.write(TextBatch.of([2], [5], ["A-1"]))
    historian.write_events([Event(3, "acme/m", EventKind.ALARM, "hot", state="active")])
    historian.write(_points(3))
    historian.flush(timeout=WAIT)
    assert len(backend.writes) == 1
    points, text, events = backend.writes[0]
    assert list(points.ts) == [1, 2, 3]
    assert text is not None
    assert text.value.to_pylist() == ["A-1"]
    assert [e.name for e in events] == ["hot"]
    stats = historian.stats()
    assert (stats.points_written, stats.text_written, stats.events_written) == (3, 1, 1)
    assert (stats.flushes, stats.duplicates, stats.queued, stats.in_flight) == (1, 1, 0, 0)
    assert stats.last_flush_at == 1_000_000_000


def test_reaching_flush_points_writes_without_a_flush_call(
    historian: Historian, backend: FakeBackend
) -> None:
    historian.write(_points(*range(1_000)))
    assert backend.written.wait(WAIT)
    assert len(backend.points_written()) == 1_000


def test_the_flush_window_closes_on_the_injected_clock(
    backend: FakeBackend, clock: FakeClock
) -> None:
    with Historian(backend, clock=clock, flush_interval=1_000_000, flush_points=10**6) as service:
        service.write(_points(7))
        assert service.stats().flushes == 0
        clock.now += 1_000_000
        assert backend.written.wait(WAIT)
        assert backend.points_written() == [7]


def test_full_queue_blocks_then_raises_backpressure(backend: FakeBackend, clock: FakeClock) -> None:
    backend.gate.clear()
    service = Historian(backend, clock=clock, flush_points=5, queue_points=10).start()
    service.write(_points(1, 2, 3, 4, 5))
    assert backend.entered.wait(WAIT)  # the writer holds the first group in flight
    service.write(_points(6, 7, 8, 9, 10, 11, 12, 13))
    with pytest.raises(BackpressureError, match="8 of 10 points queued"):
        service.write(_points(14, 15, 16), timeout=0.05)
    assert service.stats().queued == 8
    backend.gate.set()
    service.write(_points(14, 15, 16), timeout=WAIT)
    service.flush(timeout=WAIT)
    assert sorted(backend.points_written()) == list(range(1, 17))
    service.stop(timeout=WAIT)


def test_failed_writes_are_retried_reported_and_not_lost(
    backend: FakeBackend, clock: FakeClock
) -> None:
    backend.fail_next = 3
    with Historian(backend, clock=clock, retry_backoff=(0.001, 0.002)) as service:
        service.write(_points(1, 2))
        service.flush(timeout=WAIT)
        stats = service.stats()
    assert backend.points_written() == [1, 2]
    assert stats.failed_writes == 3
    assert stats.last_error == "OSError: disk on fire"
    assert stats.last_error_at == clock.now


def test_flush_timeout_names_the_last_error(backend: FakeBackend, clock: FakeClock) -> None:
    backend.fail_forever = True
    service = Historian(backend, clock=clock, retry_backoff=(0.001, 0.002)).start()
    service.write(_points(1))
    with pytest.raises(HistorianTimeoutError, match="disk on fire"):
        service.flush(timeout=0.2)
    with pytest.raises(HistorianError, match="1 points unwritten"):
        service.stop(timeout=0.1)
    assert backend.closed
    with pytest.raises(HistorianClosedError, match="stopped before writing 1 points"):
        service.flush(timeout=WAIT)


def test_stop_drains_the_queue_and_refuses_later_writes(
    backend: FakeBackend, clock: FakeClock
) -> None:
    service = Historian(backend, clock=clock, flush_interval=10**12, flush_points=10**6).start()
    for t in range(50):
        service.write(_points(t))
    service.stop(timeout=WAIT)
    assert sorted(backend.points_written()) == list(range(50))
    assert backend.closed
    with pytest.raises(HistorianClosedError):
        service.write(_points(99))


def test_writes_and_catalog_changes_run_on_the_writer_thread(
    historian: Historian, backend: FakeBackend
) -> None:
    assert historian.ensure_ids(["a", "b"]) == {"a": 1, "b": 2}
    historian.write(_points(1))
    historian.flush(timeout=WAIT)
    assert set(backend.threads) == {"omp-historian-writer"}


def test_declaring_state_signals_runs_on_the_writer_thread(
    historian: Historian, backend: FakeBackend
) -> None:
    assert historian.track_states([3, 4, 3]) == 2
    assert historian.track_states([4]) == 0
    assert backend.tracked == {3, 4}
    assert set(backend.threads) == {"omp-historian-writer"}


def test_ensure_ids_before_start_runs_directly(backend: FakeBackend) -> None:
    service = Historian(backend)
    assert service.ensure_ids(["x"]) == {"x": 1}


def test_timestamps_before_1970_are_refused_at_the_door(historian: Historian) -> None:
    with pytest.raises(ValueError, match="before 1970"):
        historian.write(_points(-5))
    assert historian.stats().queued == 0


def test_aggregate_goes_through_the_planner(historian: Historian, backend: FakeBackend) -> None:
    day = 86_400_000_000
    historian.aggregate(AggregateQuery((1,), 0, 30 * day, 3_600_000_000, (Agg.AVG,)))
    historian.aggregate(AggregateQuery((1,), 0, 60_000_000, 60_000_000, (Agg.AVG,)))
    historian.aggregate(AggregateQuery((1,), 0, day, 60_000_000, (Agg.AVG,), tier=Tier.RAW))
    assert backend.tiers == [Tier.HOUR, Tier.RAW, Tier.RAW]


def test_aggregate_without_now_gets_the_clocks(
    historian: Historian, backend: FakeBackend, clock: FakeClock
) -> None:
    historian.aggregate(AggregateQuery((1,), 0, 60_000_000, 60_000_000, (Agg.TWA,)))
    historian.aggregate(AggregateQuery((1,), 0, 60_000_000, 60_000_000, (Agg.TWA,), now=7))
    assert [q.now for q in backend.aggregate_queries] == [clock.now, 7]


def test_retention_maps_signals_to_cutoffs_on_the_writer(
    backend: FakeBackend, clock: FakeClock
) -> None:
    policy = RetentionPolicy(
        default=RetentionRule(raw=100),
        by_kind={"counter": RetentionRule(raw=500, hour=10_000)},
        by_signal={"m/special": RetentionRule(minute=7)},
    )
    with Historian(backend, clock=clock, retention=policy) as service:
        service.ensure_ids(["m/temp", "m/parts", "m/special"])
        deleted = service.apply_retention({"m/parts": "counter", "m/special": "counter"})
    now = clock.now
    assert sorted(backend.deletes) == sorted(
        [
            (Tier.RAW, [(now - 500, [2, 3]), (now - 100, [1])]),
            (Tier.MINUTE, [(now - 7, [3])]),
            (Tier.HOUR, [(now - 10_000, [2, 3])]),
        ]
    )
    assert deleted == 6
    assert backend.threads[-1] == "omp-historian-writer"


def test_events_with_unserialisable_attributes_are_refused_at_the_door(
    historian: Historian,
) -> None:
    bad = Event(1, "acme/m", EventKind.QUALITY, "lot-7", attributes={"when": object()})
    with pytest.raises(ValueError, match=r"lot-7.*JSON"):
        historian.write_events([bad])
    assert historian.stats().queued == 0


def test_catalog_calls_are_answered_while_writes_keep_failing(
    backend: FakeBackend, clock: FakeClock
) -> None:
    backend.fail_forever = True
    service = Historian(backend, clock=clock, flush_points=1, retry_backoff=(0.001, 0.002)).start()
    service.write(_points(1))
    assert backend.entered.wait(WAIT)
    assert service.ensure_ids(["m/x"]) == {"m/x": 1}
    backend.fail_forever = False
    service.flush(timeout=WAIT)
    service.stop(timeout=WAIT)
    assert backend.points_written() == [1]

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

import pytest

from omp.core.errors import HistorianError
from omp.core.time import US_PER_SECOND, Micros
from omp.runtime.retention import RetentionService


class Target:
    """Counts retention passes; fails the first ``failures`` of them."""

    def __init__(self, failures: int = 0) -> None:
        self.kinds: list[Mapping[str, str]] = []
        self.failures = failures
        self.called = threading.Event()

    def apply_retention(self, kinds: Mapping[str, str], *, now: Micros | None = None) -> int:
        self.kinds.append(kinds)
        self.called.set()
        if self.failures:
            self.failures -= 1
            raise HistorianError("disk on fire")
        return 5


def test_a_pass_at_start_then_stops_promptly() -> None:
    target = Target()
    service = RetentionService(target, kinds={"a/b": "measurement"}, interval=3600 * US_PER_SECOND)
    service.start()
    assert target.called.wait(10)
    service.stop()  # does not wait for the hour
    assert target.kinds == [{"a/b": "measurement"}]
    assert service.deleted == 5


def test_failures_are_counted_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    target = Target(failures=2)
    service = RetentionService(target, kinds={}, interval=US_PER_SECOND)
    service.run_once()
    service.run_once()
    service.run_once()
    assert service.runs == 3
    assert service.deleted == 5
    warnings = [r for r in caplog.records if "retention failed" in r.getMessage()]
    assert len(warnings) == 1  # the first failure of a streak, not every retry
    assert "disk on fire" in warnings[0].getMessage()


class BuggyTarget:
    """Fails its first passes with a non-omp exception (a bug or a driver error)."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.passes = 0
        self.recovered = threading.Event()

    def apply_retention(self, kinds: Mapping[str, str], *, now: Micros | None = None) -> int:
        self.passes += 1
        if self.passes <= self.failures:
            raise RuntimeError("driver exploded")
        self.recovered.set()
        return 1


def test_any_exception_keeps_the_thread_alive_and_shows_in_health(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="omp.runtime.retention")
    target = BuggyTarget(failures=2)
    service = RetentionService(target, kinds={}, interval=1_000)  # a pass every millisecond
    service.run_once()
    assert service.health() == {"runs": 1, "deleted": 0, "failing": True}
    service.start()
    try:
        assert target.recovered.wait(10)  # the thread survived the failure and retried
    finally:
        service.stop()
    assert service.health()["failing"] is False
    messages = [r.getMessage() for r in caplog.records]
    assert sum("retention failed" in m for m in messages) == 1  # the first failure only
    assert sum("retention works again" in m for m in messages) == 1  # and the recovery
    failed = next(r for r in caplog.records if "retention failed" in r.getMessage())
    assert failed.exc_info is not None  # an unexpected error keeps its traceback in the log

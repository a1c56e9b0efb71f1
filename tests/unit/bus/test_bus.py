from __future__ import annotations

import logging

import pytest

from omp.bus import Bus
from omp.core.batch import PointBatch, TextBatch


def test_fan_out_in_order_and_unsubscribe() -> None:
    bus = Bus()
    a: list[int] = []
    b: list[int] = []
    sub_a = bus.subscribe("a", on_batch=lambda batch: a.append(len(batch)))
    bus.subscribe("b", on_batch=lambda batch: b.append(len(batch)))
    bus.publish(PointBatch.of([1], [1], [1.0]))
    sub_a.close()
    bus.publish(PointBatch.of([1, 2], [1, 1], [1.0, 2.0]))
    assert a == [1]
    assert b == [1, 2]


def test_failing_consumer_is_counted_logged_once_and_isolated(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = Bus()
    good: list[PointBatch | TextBatch] = []

    def broken(batch: PointBatch | TextBatch) -> None:
        raise RuntimeError("consumer bug")

    bad = bus.subscribe("broken", on_batch=broken)
    bus.subscribe("good", on_batch=good.append)
    with caplog.at_level(logging.ERROR):
        for _ in range(3):
            bus.publish(PointBatch.of([1], [1], [1.0]))
    assert len(good) == 3
    assert bad.failures == 3
    assert bad.last_error == "RuntimeError: consumer bug"
    assert sum("broken" in r.getMessage() for r in caplog.records) == 1

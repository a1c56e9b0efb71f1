from __future__ import annotations

import pytest

from omp.connectors.feed import Feed
from omp.core.errors import BackpressureError
from omp.core.quality import Quality
from omp.core.rejects import RejectReason
from tests.connectors.support import RecordingSink, Row

T0 = 1_767_225_600_000_000


def test_batches_name_only_the_addresses_they_use() -> None:
    sink = RecordingSink()
    feed = Feed("plc", sink)
    indexes = [feed.address(f"a{n}") for n in range(1000)]
    feed.add(indexes[7], T0, 1.5)
    feed.add(indexes[900], T0 + 1, 2.5, Quality.UNCERTAIN)
    assert feed.flush() == 2
    assert sink.rows == [Row("a7", T0, 1.5, 0, None), Row("a900", T0 + 1, 2.5, 1, None)]
    assert feed.pending == 0
    assert feed.flush() == 0


def test_the_same_address_in_two_units_stays_two_sources() -> None:
    sink = RecordingSink()
    feed = Feed("plc", sink)
    celsius, fahrenheit = feed.address("t", "Cel"), feed.address("t", "[degF]")
    assert feed.address("t", "Cel") == celsius != fahrenheit
    feed.add(celsius, T0, 20.0)
    feed.add(fahrenheit, T0 + 1, 68.0)
    feed.flush()
    assert [(r.value, r.unit) for r in sink.rows] == [(20.0, "Cel"), (68.0, "[degF]")]


def test_text_travels_in_its_own_batch() -> None:
    sink = RecordingSink()
    feed = Feed("plc", sink)
    feed.add_text(feed.address("order"), T0, "A-17")
    feed.add(feed.address("temp"), T0, 1.0)
    assert feed.flush() == 2
    assert sink.batches == 2
    assert sink.values("order") == ["A-17"]


def test_backpressure_keeps_every_row() -> None:
    sink = RecordingSink(full=True)
    feed = Feed("plc", sink, max_points=3)
    index = feed.address("t")
    for n in range(3):
        feed.add(index, T0 + n, float(n))
    with pytest.raises(BackpressureError):
        feed.flush_if_full()
    assert feed.pending == 3
    sink.full = False
    feed.flush_if_full()
    assert sink.values("t") == [0.0, 1.0, 2.0]


def test_rejects_name_connector_and_source() -> None:
    sink = RecordingSink()
    Feed("mqtt_a", sink).reject(RejectReason.MALFORMED, 2, source="plant/line1/temp")
    assert sink.rejects == {("mqtt_a", "plant/line1/temp", RejectReason.MALFORMED): 2}


def test_batches_using_every_address_stay_right_when_addresses_are_added() -> None:
    sink = RecordingSink()
    feed = Feed("plc", sink)
    a, b = feed.address("a", "Cel"), feed.address("b")
    for _ in range(2):  # the second flush reuses the cached address tuple
        feed.add(b, T0, 2.0)
        feed.add(a, T0, 1.0)
        feed.flush()
    c = feed.address("c")
    feed.add(c, T0, 3.0)
    feed.add(a, T0, 1.0)
    feed.add(b, T0, 2.0)
    feed.flush()
    assert [(r.address, r.value, r.unit) for r in sink.rows[-3:]] == [
        ("c", 3.0, None),
        ("a", 1.0, "Cel"),
        ("b", 2.0, None),
    ]
    assert [r.address for r in sink.rows[:4]] == ["b", "a", "b", "a"]


def test_rows_appended_directly_are_good_and_add_keeps_other_qualities() -> None:
    sink = RecordingSink()
    feed = Feed("plc", sink)
    a, b = feed.address("a"), feed.address("b")
    feed.rows_address.extend([a, b])  # a hot path appending columns itself
    feed.rows_ts.extend([T0, T0])
    feed.rows_value.extend([1.0, 2.0])
    feed.add(a, T0 + 1, 3.0, Quality.BAD)
    feed.add(b, T0 + 1, 4.0)
    feed.add(a, T0 + 2, 5.0, Quality.UNCERTAIN)
    feed.flush()
    assert [r.quality for r in sink.rows] == [0, 0, 2, 0, 1]
    feed.add(a, T0 + 3, 6.0)  # qualities of a flushed batch do not leak into the next
    feed.flush()
    assert sink.rows[-1].quality == 0


def test_a_millisecond_feed_is_scaled_to_microseconds_once_per_batch() -> None:
    sink = RecordingSink()
    feed = Feed("spb", sink)
    feed.ts_unit = 1000
    feed.add(feed.address("m"), 1_767_225_600_123, 1.0)
    feed.add_text(feed.address("t"), 1_767_225_600_124, "x")
    feed.flush()
    assert sorted(r.ts for r in sink.rows) == [T0 + 123_000, T0 + 124_000]

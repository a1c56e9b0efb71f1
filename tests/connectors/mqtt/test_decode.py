"""Payload decoding: every extraction form, timestamps, quality, and refused input.

The decoder runs against a real ``Feed`` into a ``RecordingSink``; no broker needed.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
import pytest

from omp.connectors.feed import Feed
from omp.connectors.health import ConnectorHealth
from omp.connectors.mqtt.decode import MessageDecoder
from omp.connectors.mqtt.options import MqttJsonOptions
from omp.core.quality import Quality
from omp.core.rejects import RejectReason
from tests.connectors.support import RecordingSink

NOW = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z, the receive time
T1 = NOW - 5_000_000


def decoder_for(*topics: dict[str, Any]) -> tuple[MessageDecoder, RecordingSink, ConnectorHealth]:
    options = MqttJsonOptions.model_validate({"url": "mqtt://x", "topics": list(topics)})
    sink = RecordingSink()
    feed = Feed("feed", sink)
    health = ConnectorHealth("feed", lambda: NOW)
    decoder = MessageDecoder(options.topics, feed, health, lambda: NOW, logging.getLogger("t"))
    decoder.feed = feed  # type: ignore[attr-defined]  # for flushing in tests
    return decoder, sink, health


def decode(decoder: MessageDecoder, topic: str, payload: object) -> int:
    raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    count = decoder.decode(topic, raw)
    decoder.feed.flush()  # type: ignore[attr-defined]
    return count


def test_a_bare_number_bool_or_string_is_the_value_of_its_topic_at_receive_time() -> None:
    decoder, sink, _ = decoder_for({"filter": "plant/#"})
    assert decode(decoder, "plant/a/temp", 21.5) == 1
    assert decode(decoder, "plant/a/running", True) == 1
    assert decode(decoder, "plant/a/order", "A-17") == 1
    assert [(r.address, r.ts, r.value) for r in sink.rows] == [
        ("plant/a/temp", NOW, 21.5),
        ("plant/a/running", NOW, 1.0),
        ("plant/a/order", NOW, "A-17"),
    ]


def test_value_path_timestamp_and_quality_from_the_payload() -> None:
    decoder, sink, _ = decoder_for(
        {
            "filter": "plant/+",
            "value": "data.readings[1].v",
            "timestamp": "data.ts",
            "quality": "q",
            "unit": "[degF]",
        }
    )
    payload = {"data": {"ts": "2026-01-01T00:59:55+01:00", "readings": [{"v": 1}, {"v": 70}]},
               "q": "Uncertain_LastUsable"}  # fmt: skip
    assert decode(decoder, "plant/t", payload) == 1
    (row,) = sink.rows
    assert (row.ts, row.value, row.quality, row.unit) == (T1, 70.0, Quality.UNCERTAIN, "[degF]")


@pytest.mark.parametrize(
    ("form", "raw"),
    [
        ("rfc3339", "2025-12-31T23:59:55Z"),
        ("epoch_s", (T1 // 1_000_000)),
        ("epoch_s", T1 / 1e6),
        ("epoch_ms", T1 // 1_000),
        ("epoch_us", T1),
        ("epoch_ns", T1 * 1_000 + 999),
    ],
)
def test_every_timestamp_format_gives_microseconds(form: str, raw: object) -> None:
    decoder, sink, _ = decoder_for(
        {"filter": "t", "value": "v", "timestamp": "ts", "timestamp_format": form}
    )
    decode(decoder, "t", {"v": 1, "ts": raw})
    assert [r.ts for r in sink.rows] == [T1]


def test_a_missing_timestamp_field_means_the_receive_time() -> None:
    decoder, sink, _ = decoder_for({"filter": "t", "value": "v", "timestamp": "ts"})
    decode(decoder, "t", {"v": 1})
    assert [r.ts for r in sink.rows] == [NOW]


def test_opc_ua_status_codes_map_to_quality() -> None:
    decoder, sink, _ = decoder_for({"filter": "t", "value": "v", "quality": "status"})
    for status in (0, 0x40920000, 0x80000000, "bad"):
        decode(decoder, "t", {"v": 1, "status": status})
    assert [r.quality for r in sink.rows] == [0, 1, 2, 2]


def test_fields_each_become_their_own_address_and_a_missing_one_is_counted() -> None:
    decoder, sink, _ = decoder_for(
        {
            "filter": "plant/+/+",
            "fields": ["temp", "motor.speed", "absent"],
            "timestamp": "ts",
            "timestamp_format": "epoch_us",
        }
    )
    decode(decoder, "plant/l1/m1", {"ts": T1, "temp": 20.5, "motor": {"speed": 1200}})
    assert {(r.address, r.value, r.ts) for r in sink.rows} == {
        ("plant/l1/m1/temp", 20.5, T1),
        ("plant/l1/m1/motor.speed", 1200.0, T1),
    }
    assert sink.rejects == {("feed", "plant/l1/m1", RejectReason.MALFORMED): 1}


def test_star_takes_every_scalar_field_but_the_time_and_quality() -> None:
    decoder, sink, _ = decoder_for(
        {"filter": "m", "fields": "*", "timestamp": "ts", "quality": "q"}
    )
    decode(decoder, "m", {"ts": "2025-12-31T23:59:55Z", "q": "good", "a": 1, "b": "x",
                          "c": False, "nested": {"d": 1}, "list": [1], "none": None})  # fmt: skip
    assert {(r.address, r.value) for r in sink.rows} == {("m/a", 1.0), ("m/b", "x"), ("m/c", 0.0)}
    assert {r.ts for r in sink.rows} == {T1}


def test_readings_name_their_address_and_may_carry_own_time_and_quality() -> None:
    decoder, sink, _ = decoder_for(
        {
            "filter": "gw/+",
            "readings": "r",
            "name_field": "id",
            "value_field": "val",
            "timestamp_field": "t",
            "quality_field": "q",
            "timestamp": "ts",
            "timestamp_format": "epoch_ms",
        }
    )
    payload = {
        "ts": T1 // 1000,
        "r": [
            {"id": "temp", "val": 20.0},
            {"id": "speed", "val": 900, "t": NOW // 1000, "q": "bad"},
            {"id": "broken", "val": {"x": 1}},
            {"val": 3},
        ],
    }
    assert decode(decoder, "gw/7", payload) == 2
    assert [(r.address, r.ts, r.value, r.quality) for r in sink.rows] == [
        ("gw/7/temp", T1, 20.0, 0),
        ("gw/7/speed", NOW, 900.0, 2),
    ]
    assert sink.rejects == {
        ("feed", "gw/7", RejectReason.WRONG_TYPE): 1,
        ("feed", "gw/7", RejectReason.MALFORMED): 1,
    }


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", RejectReason.MALFORMED),
        ({"v": {"nested": 1}}, RejectReason.WRONG_TYPE),
        ({"v": None}, RejectReason.WRONG_TYPE),
        ({"other": 1}, RejectReason.MALFORMED),
        ({"v": 1, "ts": "2026-01-01T00:00:00"}, RejectReason.NAIVE_TIMESTAMP),
        ({"v": 1, "ts": "yesterday"}, RejectReason.MALFORMED),
        ({"v": 1, "q": "fine"}, RejectReason.INVALID_QUALITY),
    ],
)
def test_bad_messages_are_counted_for_their_topic_and_the_next_one_is_stored(
    payload: object, reason: RejectReason
) -> None:
    decoder, sink, health = decoder_for(
        {"filter": "plant/#", "value": "v", "timestamp": "ts", "quality": "q"}
    )
    assert decode(decoder, "plant/bad", payload) == 0
    assert decode(decoder, "plant/good", {"v": 2}) == 1
    assert sink.rejects == {("feed", "plant/bad", reason): 1}
    assert [(r.address, r.value) for r in sink.rows] == [("plant/good", 2.0)]
    device = health.snapshot()["devices"]["plant/#"]
    assert (device["messages"], device["values"], device["errors"]) == (2, 1, 1)
    assert "plant/bad" in device["last_error"]


def test_a_topic_no_filter_matches_is_counted_as_unknown() -> None:
    decoder, sink, _ = decoder_for({"filter": "plant/+"})
    decode(decoder, "old/topic", 1)
    assert sink.rejects == {("feed", "old/topic", RejectReason.UNKNOWN_SIGNAL): 1}


def test_the_first_matching_filter_decides_and_device_levels_name_devices() -> None:
    decoder, sink, health = decoder_for(
        {"filter": "$share/omp/plant/+/+/status", "fields": ["state"]},
        {"filter": "plant/#", "device_levels": 3},
    )
    decode(decoder, "plant/l1/m1/status", {"state": 1})
    decode(decoder, "plant/l1/m1/temp", 20)
    decode(decoder, "plant/l1/m2/temp", 21)
    assert [r.address for r in sink.rows] == [
        "plant/l1/m1/status/state",
        "plant/l1/m1/temp",
        "plant/l1/m2/temp",
    ]
    devices = health.snapshot()["devices"]
    assert sorted(devices) == ["$share/omp/plant/+/+/status", "plant/l1/m1", "plant/l1/m2"]
    assert devices["plant/l1/m2"]["state"] == "connected"

"""The MQTT JSON connector against a real Mosquitto, under the real connector host.

Mapping rules and bindings resolve through the real ``Ingest``; faults keep
the connector running; QoS 1 with a persistent session loses nothing across
a broker restart, an omp restart, or a sink that refuses.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import orjson
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from omp.bus import Bus
from omp.connectors.backoff import Backoff
from omp.connectors.host import ConnectorHost
from omp.connectors.mqtt.client import new_client
from omp.connectors.mqtt.options import MqttJsonOptions
from omp.core.rejects import RejectReason
from omp.core.sink import ConnectorSink
from omp.ingest import Ingest
from omp.model import Registry
from tests.connectors.mqtt.helpers import PLUGINS, model, publisher
from tests.connectors.support import (
    FAST_BACKOFF,
    Mosquitto,
    RecordingSink,
    registry_of,
    running_host,
    wait_for,
)
from tests.unit.ingest.fakes import RecordingHistorian

T0_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
PREFIX = "acme/munich/packaging/line1/cell"


@contextmanager
def host_of(
    registry: Registry, sink: ConnectorSink, *, backoff_s: float | None = None
) -> Iterator[ConnectorHost]:
    """The real host; ``backoff_s`` fixes the reconnect delay (default: fast)."""
    backoff = FAST_BACKOFF
    if backoff_s is not None:
        delay = backoff_s
        backoff = lambda: Backoff(initial=delay, maximum=delay, random=lambda: 1.0)  # noqa: E731
    host = ConnectorHost(registry, sink, PLUGINS, backoff=backoff)
    host.start()
    try:
        wait_for(lambda: host.connector_health("feed").is_connected, what="connector connected")
        yield host
    finally:
        host.stop()


def numbered_model(url: str, **extra: object) -> Registry:
    options = "".join(f"    {k}: {v}\n" for k, v in extra.items())
    return registry_of(
        model(
            f"    url: {url}\n{options}    topics:\n"
            "      - {filter: 'plant/#', value: n, timestamp: ts, timestamp_format: epoch_ms}\n"
        )
    )


def numbered(first: int, count: int) -> list[tuple[str, bytes]]:
    return [
        ("plant/seq", orjson.dumps({"n": i, "ts": T0_MS + i})) for i in range(first, first + count)
    ]


def received_numbers(sink: RecordingSink) -> set[int]:
    return {int(v) for v in sink.values("plant/seq") if isinstance(v, float)}


MAPPED = """    url: URL
    topics:
      - {filter: "$share/omp/plant/+/+/+", value: v, timestamp: ts, timestamp_format: epoch_ms}
      - {filter: "legacy/#"}
    map:
      - source: "plant/{line}/{machine}/{signal}"
        signal: "acme/munich/packaging/{line}/cell/{machine}/{signal}"
"""


def test_mapping_rules_and_bindings_name_the_signals_ingest_stores(mosquitto: Mosquitto) -> None:
    registry = registry_of(
        model(
            MAPPED.replace("URL", mosquitto.url),
            bindings=", connector: feed, bindings: {speed: legacy/filler/rpm}",
        )
    )
    historian = RecordingHistorian()
    ingest = Ingest(registry, historian=historian, bus=Bus())
    with host_of(registry, ingest), publisher(mosquitto.port) as pub:
        pub.publish("plant/line1/filler01/temp", orjson.dumps({"v": 61.5, "ts": T0_MS}))
        pub.publish("plant/line1/capper01/running", orjson.dumps({"v": True, "ts": T0_MS}))
        pub.publish("plant/line1/capper01/nothing", orjson.dumps({"v": 1, "ts": T0_MS}))
        pub.publish("legacy/filler/rpm", b"1200")
        wait_for(lambda: ingest.stats().accepted == 3, what="three points accepted")
    stored = {
        registry.signal_by_id(int(i)).path: v
        for b in historian.batches
        for i, v in zip(b.signal_id.tolist(), b.value.tolist(), strict=True)
    }
    assert stored == {
        f"{PREFIX}/filler01/temp": 61.5,
        f"{PREFIX}/capper01/running": 1.0,
        f"{PREFIX}/filler01/speed": 1200.0,
    }
    assert ingest.stats().unmapped == {("feed", "plant/line1/capper01/nothing"): 1}


FAULTS = {
    "malformed JSON": (b'{"n": 5, "ts": ', RejectReason.MALFORMED),
    "object for a number": (b'{"n": {"value": 5}, "ts": 1767225600000}', RejectReason.WRONG_TYPE),
    "missing value field": (b'{"value": 5, "ts": 1767225600000}', RejectReason.MALFORMED),
    "naive timestamp": (b'{"n": 5, "ts": "2026-01-01T00:00:00"}', RejectReason.NAIVE_TIMESTAMP),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_bad_message_is_counted_by_topic_and_the_data_around_it_is_stored(
    mosquitto: Mosquitto, fault: str
) -> None:
    payload, reason = FAULTS[fault]
    fmt = "rfc3339" if "naive" in fault else "epoch_ms"
    registry = registry_of(
        model(
            f"    url: {mosquitto.url}\n    topics:\n"
            f"      - {{filter: 'plant/#', value: n, timestamp: ts, timestamp_format: {fmt}}}\n"
        )
    )
    good = [
        (
            "plant/seq",
            orjson.dumps(
                {"n": i, "ts": f"2026-01-01T00:00:0{i}Z" if "naive" in fault else T0_MS + i}
            ),
        )
        for i in range(4)
    ]
    with running_host(registry, PLUGINS) as (host, sink), publisher(mosquitto.port) as pub:
        wait_for(lambda: host.connector_health("feed").is_connected)
        pub.publish_all([*good[:2], ("plant/bad/topic", payload), *good[2:]])
        wait_for(lambda: len(sink.values("plant/seq")) == 4, what="the good messages")
        wait_for(lambda: sink.rejected() == 1, what="the bad message counted")
        health = host.health()["feed"]
    assert sink.rejects == {("feed", "plant/bad/topic", reason): 1}
    assert sorted(received_numbers(sink)) == [0, 1, 2, 3]
    assert (health["state"], health["restarts"], health["errors"]) == ("connected", 0, 1)
    assert "plant/bad/topic" in health["devices"]["plant/#"]["last_error"]


def test_qos1_persistent_session_loses_nothing_across_a_broker_restart(
    mosquitto: Mosquitto,
) -> None:
    sink = RecordingSink()
    with host_of(numbered_model(mosquitto.url), sink, backoff_s=1.5) as host:
        health = host.connector_health("feed")
        with publisher(mosquitto.port) as pub:
            pub.publish_all(numbered(0, 300))
        mosquitto.stop()  # mid-stream: some of the 300 may not have reached omp yet
        wait_for(lambda: not health.is_connected, what="the connector to notice")
        mosquitto.start()
        with publisher(mosquitto.port) as pub:
            pub.publish_all(numbered(300, 300))
        assert not health.is_connected, "omp was meant to be away while these were published"
        wait_for(lambda: len(received_numbers(sink)) == 600, what="all 600 messages")
        assert received_numbers(sink) == set(range(600))
        assert host.health()["feed"]["restarts"] >= 1
        assert "closed the connection" in (host.health()["feed"]["last_error"] or "")


def test_messages_published_while_omp_is_stopped_arrive_when_it_starts(
    mosquitto: Mosquitto,
) -> None:
    registry = numbered_model(mosquitto.url)
    sink = RecordingSink()
    with host_of(registry, sink), publisher(mosquitto.port) as pub:
        pub.publish_all(numbered(0, 100))
        wait_for(lambda: len(received_numbers(sink)) == 100)
    with publisher(mosquitto.port) as pub:
        pub.publish_all(numbered(100, 200))  # nobody connected: the broker queues them for omp
    with host_of(registry, sink):
        wait_for(lambda: len(received_numbers(sink)) == 300, what="the queued messages")
    assert received_numbers(sink) == set(range(300))


def test_a_message_is_acknowledged_only_after_its_values_are_submitted(
    mosquitto: Mosquitto,
) -> None:
    registry = numbered_model(mosquitto.url)
    refusing = RecordingSink(full=True)
    with host_of(registry, refusing) as host:
        with publisher(mosquitto.port) as pub:
            pub.publish_all(numbered(0, 50))
        wait_for(lambda: "backpressure" in (host.health()["feed"]["last_error"] or ""))
    assert refusing.rows == []  # omp never took them, so it must not have acknowledged them
    sink = RecordingSink()
    with host_of(registry, sink):
        wait_for(lambda: len(received_numbers(sink)) == 50, what="the redelivered messages")
    assert received_numbers(sink) == set(range(50))


def test_qos0_connector_receives_too(mosquitto: Mosquitto) -> None:
    sink = RecordingSink()
    with host_of(numbered_model(mosquitto.url, qos=0), sink) as host:
        with publisher(mosquitto.port) as pub:
            pub.publish_all(numbered(0, 20), qos=0)
        wait_for(lambda: len(received_numbers(sink)) == 20)
        assert host.health()["feed"]["messages"] == 20


def test_gmqtt_never_reconnects_by_itself(mosquitto: Mosquitto) -> None:
    """A client that reconnected on its own would take the session back from its successor."""
    options = MqttJsonOptions.model_validate({"url": mosquitto.url, "topics": [{"filter": "x"}]})
    taken_over = threading.Event()

    async def scenario() -> tuple[bool, bool]:
        client = new_client(options, "omp-takeover")
        lost = asyncio.Event()
        client.on_disconnect = lambda *args: lost.set()
        await client.connect("127.0.0.1", mosquitto.port)
        successor = paho.Client(
            CallbackAPIVersion.VERSION2, client_id="omp-takeover", clean_session=False
        )
        successor.on_disconnect = lambda *args: taken_over.set()
        successor.connect("127.0.0.1", mosquitto.port)
        successor.loop_start()
        try:
            await asyncio.wait_for(lost.wait(), 10)  # the broker hands the session over
            await asyncio.sleep(1.0)  # a self-reconnect (delay 0) would happen well within this
            return bool(client.is_connected), taken_over.is_set()
        finally:
            successor.disconnect()
            successor.loop_stop()

    reconnected, successor_kicked = asyncio.run(scenario())
    assert (reconnected, successor_kicked) == (False, False)


def test_without_a_url_the_platforms_broker_is_used(mosquitto: Mosquitto) -> None:
    registry = registry_of(model("    topics:\n      - {filter: 'plant/#'}\n"))
    with running_host(registry, PLUGINS, broker_url=mosquitto.url) as (host, sink):
        wait_for(lambda: host.connector_health("feed").is_connected)
        with publisher(mosquitto.port) as pub:
            pub.publish("plant/a", b"7")
        wait_for(lambda: sink.values("plant/a") == [7.0])


def test_messages_held_under_backpressure_are_acknowledged_once_ingest_takes_them(
    mosquitto: Mosquitto,
) -> None:
    # A window of 5: the broker sends the rest only as acknowledgements come back.
    registry = numbered_model(mosquitto.url, inflight=5)
    sink = RecordingSink(full=True)
    with host_of(registry, sink) as host:
        with publisher(mosquitto.port) as pub:
            pub.publish_all(numbered(0, 30))
        wait_for(lambda: "backpressure" in (host.health()["feed"]["last_error"] or ""))
        assert host.health()["feed"]["messages"] <= 5  # the broker waits for acknowledgements
        sink.full = False
        wait_for(lambda: len(received_numbers(sink)) == 30, what="the held messages")
    with host_of(registry, sink), publisher(mosquitto.port) as pub:
        pub.publish("plant/seq", orjson.dumps({"n": 30, "ts": T0_MS + 30}))
        wait_for(lambda: 30 in received_numbers(sink), what="the marker message")
    # Acknowledged after the recovery: the next session got nothing again.
    assert sorted(int(v) for v in sink.values("plant/seq")) == list(range(31))  # type: ignore[arg-type]

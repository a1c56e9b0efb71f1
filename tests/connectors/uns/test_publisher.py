"""The UNS publisher against a private Mosquitto, fed through a real Bus (and a real Ingest)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from omp.bus import Bus
from omp.connectors.backoff import Backoff
from omp.connectors.mqtt_transport import MqttEndpoint
from omp.connectors.uns import UnsOptions, UnsPublisher
from omp.core.batch import PointBatch, SourceBatch, TextBatch
from omp.core.events import Event, EventKind
from omp.core.quality import Quality
from omp.core.time import parse_rfc3339
from omp.ingest import Ingest
from omp.model import Registry
from tests.connectors.support import Mosquitto, free_port, registry_of, wait_for
from tests.connectors.uns.helpers import MODEL, OVEN, NullHistorian, subscribed

T0 = parse_rfc3339("2026-03-01T08:00:00Z")
TOPIC = f"omp/v1/{OVEN}"


@pytest.fixture
def registry() -> Registry:
    return registry_of(MODEL)


def sid(registry: Registry, name: str) -> int:
    return registry.signal(f"{OVEN}/{name}").id


@contextmanager
def publishing(
    registry: Registry, bus: Bus, url: str, options: UnsOptions | None = None
) -> Iterator[UnsPublisher]:
    publisher = UnsPublisher(
        registry,
        bus,
        MqttEndpoint(url=url, client_id="omp-uns-test"),
        options,
        backoff=lambda: Backoff(initial=0.05, maximum=0.3),
    )
    publisher.start()
    try:
        yield publisher
    finally:
        publisher.stop()


def connected(publisher: UnsPublisher) -> bool:
    return bool(publisher.health()["connected"])


def test_values_are_published_as_json_in_the_models_terms(
    registry: Registry, mosquitto: Mosquitto
) -> None:
    bus = Bus()
    with subscribed(mosquitto.port) as got, publishing(registry, bus, mosquitto.url) as publisher:
        wait_for(lambda: connected(publisher), what="the publisher to connect")
        ids = [sid(registry, n) for n in ("temp", "parts", "door", "mode", "mode")]
        bus.publish(
            PointBatch.of(
                ids, [T0, T0, T0, T0, T0 + 1], [21.5, 7, 1, 2, 9], [0, 0, 0, Quality.UNCERTAIN, 0]
            )
        )
        bus.publish(TextBatch.of([sid(registry, "order")], [T0 + 500_000], ["PO-4711"]))
        wait_for(lambda: len(got.messages) == 5, what="five UNS messages")
        body = {m.topic.rsplit("/", 1)[1]: m.body for m in got.messages}
    assert body["temp"] == {
        "ts": "2026-03-01T08:00:00Z",
        "value": 21.5,
        "unit": "Cel",
        "quality": "good",
    }
    assert body["parts"]["value"] == 7
    assert isinstance(body["parts"]["value"], int)
    assert body["parts"]["unit"] == "{parts}"
    assert body["door"] == {
        "ts": "2026-03-01T08:00:00Z",
        "value": True,
        "label": "open",
        "quality": "good",
    }
    # the last mode value wins; 9 is a code the model does not name, so no label
    assert body["mode"] == {"ts": "2026-03-01T08:00:00.000001Z", "value": 9, "quality": "good"}
    assert body["order"] == {
        "ts": "2026-03-01T08:00:00.500000Z",
        "value": "PO-4711",
        "quality": "good",
    }
    assert all(m.retain is False for m in got.messages)  # live delivery is never flagged retained


def test_values_are_retained_unless_a_rule_says_otherwise(
    registry: Registry, mosquitto: Mosquitto
) -> None:
    options = UnsOptions(rules=[{"kind": "text", "retain": False}])  # type: ignore[list-item]
    bus = Bus()
    with publishing(registry, bus, mosquitto.url, options) as publisher:
        wait_for(lambda: connected(publisher), what="the publisher to connect")
        bus.publish(PointBatch.of([sid(registry, "temp")], [T0], [20.0]))
        bus.publish(TextBatch.of([sid(registry, "order")], [T0], ["PO-1"]))
        wait_for(lambda: publisher.health()["published"] == 2, what="two publishes")
        with subscribed(mosquitto.port) as late:
            wait_for(lambda: late.on(f"{TOPIC}/temp"), what="the retained temperature")
            assert late.on(f"{TOPIC}/temp")[0].retain
            assert late.on(f"{TOPIC}/order") == []


def test_a_burst_within_max_rate_is_one_publish_of_the_last_value(
    registry: Registry, mosquitto: Mosquitto
) -> None:
    options = UnsOptions(rules=[{"signals": "acme/**/temp", "max_rate": "1s"}])  # type: ignore[list-item]
    bus = Bus()
    temp = sid(registry, "temp")
    with (
        subscribed(mosquitto.port) as got,
        publishing(registry, bus, mosquitto.url, options) as publisher,
    ):
        wait_for(lambda: connected(publisher), what="the publisher to connect")
        started = time.monotonic()
        for n in range(10):  # ten values, one batch each, within 100 ms of each other
            bus.publish(PointBatch.of([temp], [T0 + n * 10_000], [float(n)]))
        wait_for(lambda: got.on(f"{TOPIC}/temp"), what="the rate-limited publish")
        waited = time.monotonic() - started
        health = publisher.health()
    assert got.values(f"{TOPIC}/temp") == [9.0]
    assert (health["published"], health["coalesced"], health["pending"]) == (1, 9, 0)
    assert waited >= 0.9  # published at the end of the 1 s window, not at its start


def test_rate_limit_is_per_signal_and_other_signals_are_not_held(
    registry: Registry, mosquitto: Mosquitto
) -> None:
    options = UnsOptions(max_rate="10s", rules=[{"signals": "**/parts", "max_rate": "off"}])  # type: ignore[arg-type,list-item]
    bus = Bus()
    with (
        subscribed(mosquitto.port) as got,
        publishing(registry, bus, mosquitto.url, options) as publisher,
    ):
        wait_for(lambda: connected(publisher), what="the publisher to connect")
        bus.publish(
            PointBatch.of([sid(registry, "temp"), sid(registry, "parts")], [T0, T0], [1, 2])
        )
        wait_for(lambda: got.on(f"{TOPIC}/parts"), what="the unlimited signal")
        assert got.on(f"{TOPIC}/temp") == []  # still inside its 10 s window
        assert publisher.health()["pending"] == 1


def test_events_go_under_the_equipment(registry: Registry, mosquitto: Mosquitto) -> None:
    bus = Bus()
    event = Event(
        ts=T0, asset=OVEN, kind=EventKind.STATE_CHANGE, name="2", state="running", reason="start"
    )
    with subscribed(mosquitto.port) as got, publishing(registry, bus, mosquitto.url) as publisher:
        wait_for(lambda: connected(publisher), what="the publisher to connect")
        bus.publish_events([event])
        wait_for(lambda: got.messages, what="the event")
    [message] = got.messages
    assert message.topic == f"{TOPIC}/_events/state_change"
    assert message.body == {
        "ts": "2026-03-01T08:00:00Z",
        "name": "2",
        "state": "running",
        "reason": "start",
    }


def test_events_can_be_switched_off(registry: Registry, mosquitto: Mosquitto) -> None:
    bus = Bus()
    event = Event(ts=T0, asset=OVEN, kind=EventKind.ALARM, name="overheat", state="active")
    with (
        subscribed(mosquitto.port) as got,
        publishing(registry, bus, mosquitto.url, UnsOptions(events=False)) as publisher,
    ):
        wait_for(lambda: connected(publisher), what="the publisher to connect")
        bus.publish_events([event])
        bus.publish(PointBatch.of([sid(registry, "temp")], [T0], [1.0]))  # a marker after it
        wait_for(lambda: got.messages, what="the marker value")
    assert [m.topic for m in got.messages] == [f"{TOPIC}/temp"]
    assert publisher.health()["events_published"] == 0


def test_reconnects_after_a_broker_restart_and_restores_retained_values(
    registry: Registry, mosquitto: Mosquitto
) -> None:
    bus = Bus()
    temp, parts = sid(registry, "temp"), sid(registry, "parts")
    with publishing(registry, bus, mosquitto.url) as publisher:
        wait_for(lambda: connected(publisher), what="the publisher to connect")
        bus.publish(PointBatch.of([temp], [T0], [20.0]))
        wait_for(lambda: publisher.health()["published"] == 1, what="the first publish")
        mosquitto.stop()
        wait_for(lambda: not connected(publisher), what="the publisher to notice the loss")
        bus.publish(PointBatch.of([parts], [T0 + 1], [5]))  # while the broker is away
        (mosquitto.workdir / "mosquitto.db").unlink(missing_ok=True)  # it forgets retained values
        mosquitto.start()
        wait_for(lambda: connected(publisher), what="the publisher to reconnect")
        with subscribed(mosquitto.port) as late:
            wait_for(lambda: len(late.messages) >= 2, what="both retained values")
            assert late.values(f"{TOPIC}/temp") == [20.0]
            assert late.values(f"{TOPIC}/parts") == [5]
        health = publisher.health()
    assert health["errors"] >= 1
    assert "127.0.0.1" in str(health["last_error"])


def test_an_absent_broker_is_reported_then_joined(registry: Registry, tmp_path) -> None:  # type: ignore[no-untyped-def]
    broker = Mosquitto(tmp_path, port=free_port())
    bus = Bus()
    with publishing(registry, bus, broker.url) as publisher:
        wait_for(lambda: publisher.health()["errors"], what="a failed connect")
        assert f"127.0.0.1:{broker.port}" in str(publisher.health()["last_error"])
        bus.publish(PointBatch.of([sid(registry, "temp")], [T0], [3.0]))
        broker.start()
        try:
            with subscribed(broker.port) as got:
                wait_for(lambda: got.values(f"{TOPIC}/temp") == [3.0], what="the value kept")
        finally:
            broker.stop()


def test_values_arrive_through_the_real_ingest_in_the_models_unit(
    registry: Registry, mosquitto: Mosquitto
) -> None:
    bus = Bus()
    ingest = Ingest(registry, historian=NullHistorian(), bus=bus)
    with subscribed(mosquitto.port) as got, publishing(registry, bus, mosquitto.url) as publisher:
        wait_for(lambda: connected(publisher), what="the publisher to connect")
        ingest.submit(SourceBatch.of("plc", ["ns=2;s=T1"], [0], [T0], [212.0]))  # degF
        wait_for(lambda: got.on(f"{TOPIC}/temp"), what="the converted value")
    [message] = got.on(f"{TOPIC}/temp")
    assert message.body["unit"] == "Cel"
    assert message.body["value"] == pytest.approx(100.0)


def test_a_disabled_publisher_does_nothing(registry: Registry) -> None:
    bus = Bus()
    publisher = UnsPublisher(
        registry, bus, MqttEndpoint(url="mqtt://127.0.0.1:1"), UnsOptions(enabled=False)
    )
    publisher.start()
    assert bus.subscriptions == ()
    assert publisher.health()["enabled"] is False
    publisher.stop()


def test_stop_unsubscribes_from_the_bus(registry: Registry, mosquitto: Mosquitto) -> None:
    bus = Bus()
    with publishing(registry, bus, mosquitto.url) as publisher:
        assert [s.name for s in bus.subscriptions] == ["uns"]
    assert bus.subscriptions == ()
    assert publisher.health()["connected"] is False


def test_stop_does_not_wait_for_a_broker_that_never_answers(registry: Registry) -> None:
    with socket.socket() as silent:  # accepts TCP connections, never says a word of MQTT
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        publisher = UnsPublisher(
            registry, Bus(), MqttEndpoint(url=f"mqtt://127.0.0.1:{silent.getsockname()[1]}")
        )
        publisher.start()
        silent.settimeout(5)
        connection, _ = silent.accept()  # the publisher now waits for a CONNACK
        started = time.monotonic()
        publisher.stop()
        connection.close()
    assert time.monotonic() - started < 5  # the connect timeout is 10 s
    assert publisher.health()["connected"] is False


def test_a_reloaded_model_publishes_its_new_signals(
    registry: Registry, mosquitto: Mosquitto
) -> None:
    bigger = registry_of(MODEL.replace("      order:", "      zone: {unit: Cel}\n      order:"))
    zone = bigger.signal(f"{OVEN}/zone").id
    assert all(bigger.signal(s.path).id == s.id for s in registry)  # ids kept, as the catalog does
    bus = Bus()
    with subscribed(mosquitto.port) as got, publishing(registry, bus, mosquitto.url) as publisher:
        wait_for(lambda: connected(publisher), what="the publisher to connect")
        bus.publish(PointBatch.of([zone], [T0], [1.0]))
        wait_for(lambda: publisher.health()["unknown_signals"] == 1, what="the unknown id counted")
        publisher.use_registry(bigger)
        bus.publish(PointBatch.of([zone], [T0 + 1], [2.0]))
        wait_for(lambda: got.values(f"{TOPIC}/zone") == [2.0], what="the new signal published")


def test_a_stopped_publisher_can_start_again(registry: Registry, mosquitto: Mosquitto) -> None:
    bus = Bus()
    with publishing(registry, bus, mosquitto.url) as publisher:
        wait_for(lambda: connected(publisher), what="the first connection")
        publisher.stop()
        publisher.start()
        wait_for(lambda: connected(publisher), what="the second connection")
        with subscribed(mosquitto.port) as got:
            bus.publish(PointBatch.of([sid(registry, "temp")], [T0], [4.0]))
            wait_for(lambda: got.values(f"{TOPIC}/temp") == [4.0], what="a value after restart")

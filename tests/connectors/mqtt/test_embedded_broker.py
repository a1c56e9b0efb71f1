"""The MQTT JSON connector against omp's embedded broker, which speaks MQTT 3.1.1 only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from omp.connectors.broker import EmbeddedBroker
from tests.connectors.mqtt.helpers import publisher
from tests.connectors.mqtt.test_connector import host_of, numbered, numbered_model, received_numbers
from tests.connectors.support import RecordingSink, wait_for


@pytest.fixture
def broker() -> Iterator[EmbeddedBroker]:
    embedded = EmbeddedBroker("127.0.0.1", 0)
    embedded.start()
    yield embedded
    embedded.stop()


def test_auto_falls_back_to_3_1_1(broker: EmbeddedBroker) -> None:
    registry = numbered_model(broker.url)
    sink = RecordingSink()
    with host_of(registry, sink) as host, publisher(broker.port) as pub:
        pub.publish_all(numbered(0, 50))
        wait_for(lambda: len(received_numbers(sink)) == 50, what="50 values via the broker")
        health = host.health()["feed"]
    assert received_numbers(sink) == set(range(50))
    assert health["crashes"] == 0
    assert health["state"] == "connected"


def test_insisting_on_mqtt_5_is_refused_by_the_embedded_broker(broker: EmbeddedBroker) -> None:
    registry = numbered_model(broker.url, protocol_version='"5"', keepalive=5)
    from omp.connectors.host import ConnectorHost
    from tests.connectors.mqtt.helpers import PLUGINS
    from tests.connectors.support import FAST_BACKOFF

    host = ConnectorHost(registry, RecordingSink(), PLUGINS, backoff=FAST_BACKOFF)
    host.start()
    try:
        wait_for(lambda: host.health()["feed"]["errors"] >= 1, timeout=60, what="a refusal")
        assert host.health()["feed"]["state"] != "connected"
    finally:
        host.stop()

"""The default deployment: the UNS publisher publishing through the embedded broker."""

from __future__ import annotations

from omp.bus import Bus
from omp.connectors.broker import EmbeddedBroker
from omp.connectors.mqtt_transport import MqttEndpoint
from omp.connectors.uns import UnsPublisher
from omp.core.batch import PointBatch
from omp.core.time import parse_rfc3339
from tests.connectors.support import registry_of, wait_for
from tests.connectors.uns.helpers import MODEL, OVEN, subscribed


def test_uns_values_reach_a_subscriber_through_the_embedded_broker() -> None:
    registry = registry_of(MODEL)
    broker = EmbeddedBroker(port=0)
    broker.start()
    bus = Bus()
    publisher = UnsPublisher(registry, bus, MqttEndpoint(url=broker.url))
    publisher.start()
    try:
        wait_for(lambda: publisher.health()["connected"], what="the publisher to connect")
        with subscribed(broker.port) as got:
            temp = registry.signal(f"{OVEN}/temp").id
            bus.publish(PointBatch.of([temp], [parse_rfc3339("2026-03-01T08:00:00Z")], [21.0]))
            wait_for(lambda: got.on(f"omp/v1/{OVEN}/temp"), what="the value via amqtt")
        [message] = got.on(f"omp/v1/{OVEN}/temp")
        assert message.body == {
            "ts": "2026-03-01T08:00:00Z",
            "value": 21.0,
            "unit": "Cel",
            "quality": "good",
        }
    finally:
        publisher.stop()
        broker.stop()

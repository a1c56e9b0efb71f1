"""The embedded broker with real clients: a paho publisher and a gmqtt subscriber."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from gmqtt.mqtt.constants import MQTTv50, MQTTv311

from omp.connectors.broker import BrokerStartError, EmbeddedBroker
from omp.core.errors import ConfigError
from tests.connectors.broker.clients import GmqttSubscriber, paho_publisher, publish
from tests.connectors.support import wait_for


@pytest.fixture
def broker() -> Iterator[EmbeddedBroker]:
    embedded = EmbeddedBroker(port=0)
    embedded.start()
    yield embedded
    embedded.stop()


@pytest.fixture
def subscriber(broker: EmbeddedBroker) -> Iterator[GmqttSubscriber]:
    client = GmqttSubscriber(broker.port)
    yield client
    client.close()


def test_url_reports_the_port_it_picked(broker: EmbeddedBroker) -> None:
    assert broker.port != 0
    assert broker.url == f"mqtt://127.0.0.1:{broker.port}"
    with socket.create_connection(("127.0.0.1", broker.port), timeout=2):
        pass


def test_qos0_and_qos1_messages_reach_a_wildcard_subscriber(
    broker: EmbeddedBroker, subscriber: GmqttSubscriber
) -> None:
    subscriber.connect(("plant/+/temp", 1), ("line/#", 0))
    with paho_publisher(broker.port) as pub:
        publish(pub, "plant/press_01/temp", b'{"value": 21.5}', qos=0)
        publish(pub, "plant/press_02/temp", b'{"value": 22.5}', qos=1)
        publish(pub, "plant/press_02/force", b"not subscribed", qos=1)
        publish(pub, "line/1/cell/a", b"deep", qos=1)
        wait_for(lambda: len(subscriber.received) >= 3, what="three messages")
        assert broker.health()["clients"] == 2  # the publisher and the subscriber
    by_topic = {m.topic: m for m in subscriber.received}
    assert set(by_topic) == {"plant/press_01/temp", "plant/press_02/temp", "line/1/cell/a"}
    assert by_topic["plant/press_02/temp"].payload == b'{"value": 22.5}'
    assert by_topic["plant/press_02/temp"].qos == 1
    assert by_topic["line/1/cell/a"].qos == 0  # granted QoS caps delivery


def test_a_late_subscriber_gets_the_retained_message(
    broker: EmbeddedBroker, subscriber: GmqttSubscriber
) -> None:
    with paho_publisher(broker.port) as pub:
        publish(pub, "omp/v1/a/b/state", b"first", qos=1, retain=True)
        publish(pub, "omp/v1/a/b/state", b"last", qos=1, retain=True)
    subscriber.connect(("omp/v1/#", 1))
    wait_for(lambda: subscriber.received, what="the retained message")
    [message] = subscriber.received
    assert (message.topic, message.payload, message.retain) == ("omp/v1/a/b/state", b"last", True)


def test_persistent_session_keeps_qos1_messages_while_the_subscriber_is_away(
    broker: EmbeddedBroker,
) -> None:
    durable = GmqttSubscriber(broker.port, client_id="historian-1", clean_session=False)
    try:
        durable.connect(("orders/#", 1))
        durable.disconnect()
        with paho_publisher(broker.port) as pub:
            for n in range(3):
                publish(pub, f"orders/{n}", str(n).encode(), qos=1)
        durable.connect()  # no new subscription: the session kept the old one
        wait_for(lambda: len(durable.received) == 3, what="the three queued messages")
        assert sorted(m.payload for m in durable.received) == [b"0", b"1", b"2"]
    finally:
        durable.close()


def test_an_mqtt5_client_is_refused_at_once_and_gmqtt_falls_back_to_3_1_1(
    broker: EmbeddedBroker,
) -> None:
    modern = GmqttSubscriber(broker.port, client_id="mqtt5-client", version=MQTTv50)
    try:
        modern.connect(("v5/#", 1))  # CONNACK "unacceptable protocol version", then 3.1.1
        assert modern.protocol_version == MQTTv311
        with paho_publisher(broker.port) as pub:
            publish(pub, "v5/hello", b"{}", qos=1)
        wait_for(lambda: modern.topics() == ["v5/hello"], what="the message over 3.1.1")
    finally:
        modern.close()


def test_a_taken_port_is_named_with_the_setting_to_change() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        broker = EmbeddedBroker(port=port)
        with pytest.raises(
            BrokerStartError, match=f"127.0.0.1:{port}.*already in use.*mqtt_url.*broker_port"
        ):
            broker.start()
        assert not broker.running


def test_stop_frees_the_port(broker: EmbeddedBroker) -> None:
    port = broker.port
    with paho_publisher(port):
        broker.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    again = EmbeddedBroker(port=port)
    again.start()
    again.stop()
    broker.stop()  # idempotent


def test_a_non_loopback_host_needs_allow_remote() -> None:
    with pytest.raises(ConfigError, match=r"0\.0\.0\.0.*allow_remote"):
        EmbeddedBroker(host="0.0.0.0", port=0)
    assert EmbeddedBroker(host="0.0.0.0", port=0, allow_remote=True).host == "0.0.0.0"


def test_retained_messages_go_only_to_subscribers_of_their_filter(
    broker: EmbeddedBroker, subscriber: GmqttSubscriber
) -> None:
    """amqtt 0.12 sent a connecting client every retained message matching anyone's filter."""
    with paho_publisher(broker.port) as pub:
        publish(pub, "omp/v1/acme/press/temp", b"21.5", qos=1, retain=True)
        uns = GmqttSubscriber(broker.port, client_id="uns-listener")
        try:
            uns.connect(("omp/v1/#", 1))
            wait_for(lambda: uns.topics() == ["omp/v1/acme/press/temp"], what="the retained value")
            subscriber.connect(("spBv1.0/g1/NCMD/edge1", 1))
            publish(pub, "spBv1.0/g1/NCMD/edge1", b"cmd", qos=1)
            wait_for(lambda: subscriber.topics() != [], what="the command")
        finally:
            uns.close()
    assert subscriber.topics() == ["spBv1.0/g1/NCMD/edge1"]

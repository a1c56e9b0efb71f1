"""Test clients for the broker tests: a paho publisher and a gmqtt subscriber on its own loop.

Both are the real libraries on real sockets; the gmqtt subscriber runs on a
private thread so the tests stay synchronous and can use ``wait_for``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import gmqtt
import paho.mqtt.client as paho
from gmqtt.mqtt.constants import MQTTv311


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    qos: int
    retain: bool


@contextmanager
def paho_publisher(port: int, client_id: str = "test-pub") -> Iterator[paho.Client]:
    """A connected paho client with its network loop running."""
    client = paho.Client(
        paho.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv311
    )
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        yield client
    finally:
        client.disconnect()
        client.loop_stop()


def publish(
    client: paho.Client, topic: str, payload: bytes, qos: int = 0, retain: bool = False
) -> None:
    client.publish(topic, payload, qos=qos, retain=retain).wait_for_publish(5)


@dataclass
class GmqttSubscriber:
    """A gmqtt client on its own thread and loop; ``received`` fills as messages arrive."""

    port: int
    client_id: str = "test-sub"
    clean_session: bool = True
    version: int = MQTTv311
    received: list[Received] = field(default_factory=list)
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    _thread: threading.Thread | None = None
    _client: Any = None

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    def connect(self, *subscriptions: tuple[str, int]) -> None:
        self._run(self._connect(subscriptions))

    async def _connect(self, subscriptions: tuple[tuple[str, int], ...]) -> None:
        client = gmqtt.Client(self.client_id, clean_session=self.clean_session)
        client.set_config({"reconnect_delay": 0})  # a protocol downgrade retries at once
        client.on_message = self._on_message
        await client.connect("127.0.0.1", self.port, version=self.version)
        for topic, qos in subscriptions:
            client.subscribe(topic, qos=qos)
        self._client = client

    def _on_message(
        self, client: Any, topic: str, payload: bytes, qos: int, properties: Any
    ) -> int:
        self.received.append(Received(topic, payload, qos, bool(properties.get("retain"))))
        return 0

    @property
    def protocol_version(self) -> int:
        """The MQTT protocol level the connection ended up with (4: 3.1.1, 5: 5.0)."""
        return int(self._client._connection_state.protocol_version)  # gmqtt keeps it there

    def disconnect(self) -> None:
        if self._client is not None:
            self._run(self._client.disconnect())
            self._client = None

    def close(self) -> None:
        self.disconnect()
        self._loop.call_soon_threadsafe(self._loop.stop)
        assert self._thread is not None
        self._thread.join(5)
        self._loop.close()

    def topics(self) -> list[str]:
        return [message.topic for message in list(self.received)]

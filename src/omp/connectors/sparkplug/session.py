"""``BrokerSession``: one MQTT session of the host application, from CONNECT to goodbye.

It owns the gmqtt client and the STATE handshake: the death as the MQTT will
(``{"online": false, "timestamp": t}``, QoS 1, retained), subscriptions first,
then the birth with the same ``t``. gmqtt's own reconnect is disabled: the
connector host reconnects with backoff, and each session starts from births.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from gmqtt import Client, Message, Subscription
from gmqtt.mqtt.constants import MQTTv311

from omp.connectors.base import ConnectionLostError
from omp.connectors.sparkplug.options import SparkplugOptions, state_topic

CONNECT_TIMEOUT = 10.0
"""Seconds to wait for CONNACK and SUBACK before calling the broker unreachable."""

log = logging.getLogger(__name__)


class _Client(Client):  # type: ignore[misc]  # gmqtt has no type hints
    """A gmqtt client that never reconnects by itself."""

    async def reconnect(self, delay: bool = False) -> None:
        return None


def state_payload(online: bool, timestamp_ms: int) -> bytes:
    """The host's STATE birth or death (Sparkplug 3.0): JSON with ``online`` and ``timestamp``."""
    return json.dumps({"online": online, "timestamp": timestamp_ms}).encode()


class BrokerSession:
    """One connection to the broker; ``lost`` is set when it ends or a handler bug ends it."""

    def __init__(
        self, options: SparkplugOptions, *, host_id: str, client_id: str, born_ms: int
    ) -> None:
        self.options = options
        self.host_id = host_id
        self.state_topic = state_topic(host_id)
        self.born_ms = born_ms
        self.where = options.redacted_url
        self.lost = asyncio.Event()
        self.crash: Exception | None = None
        self._subscribed = asyncio.Event()
        will = Message(self.state_topic, state_payload(False, born_ms), qos=1, retain=True)
        self.client: Any = _Client(
            client_id, clean_session=True, will_message=will, logger=log.getChild(host_id)
        )
        self.client.on_disconnect = lambda *_: self.lost.set()
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        login = options.login
        if login is not None:
            self.client.set_auth_credentials(*login)

    async def open(self) -> None:
        """Connect, subscribe (and wait for the SUBACK), then publish the STATE birth."""
        options = self.options
        try:
            await asyncio.wait_for(
                self.client.connect(
                    options.host,
                    options.port,
                    ssl=options.ssl_context(),
                    keepalive=options.keepalive,
                    version=MQTTv311,
                ),
                CONNECT_TIMEOUT,
            )
        except (OSError, TimeoutError) as exc:
            raise ConnectionLostError(f"broker {self.where}: {exc or type(exc).__name__}") from exc
        except Exception as exc:  # gmqtt's refusals (bad login, not authorised)
            raise ConnectionLostError(f"broker {self.where} refused the connection: {exc}") from exc
        topics = options.subscriptions(self.host_id)
        self.client.subscribe([Subscription(topic, qos=1) for topic in topics])
        try:
            await asyncio.wait_for(self._subscribed.wait(), CONNECT_TIMEOUT)
        except TimeoutError:
            raise ConnectionLostError(f"broker {self.where}: no answer to SUBSCRIBE") from None
        self.publish_birth()

    def publish_birth(self) -> None:
        self.client.publish(self.state_topic, state_payload(True, self.born_ms), qos=1, retain=True)

    def publish(self, topic: str, payload: bytes) -> None:
        """A QoS 0 command (Sparkplug commands are QoS 0); dropped when not connected."""
        if self.client.is_connected:
            self.client.publish(topic, payload, qos=0)

    def on_own_state(self, raw: bytes) -> None:
        """Someone marked us offline after our birth: say online again (spec 3.0)."""
        try:
            state = json.loads(raw)
            offline = state.get("online") is False
            newer = int(state.get("timestamp", 0)) >= self.born_ms
        except (ValueError, TypeError, AttributeError):
            return
        if offline and newer and self.client.is_connected:
            log.warning("%s was marked offline by someone else: online again", self.state_topic)
            self.publish_birth()

    def on_crash(self, exc: Exception) -> None:
        """A bug in handling a message: end this session; the connector host reports it."""
        self.crash = exc
        self.lost.set()

    async def wait_lost(self, every: float, tick: Any) -> None:
        """Call ``tick()`` every ``every`` seconds until the session is lost."""
        while not self.lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.lost.wait(), every)
            tick()

    async def close(self) -> None:
        """Publish the STATE death, then DISCONNECT (the spec's intentional disconnect)."""
        try:
            if self.client.is_connected:
                self.client.publish(
                    self.state_topic, state_payload(False, self.born_ms), qos=1, retain=True
                )
                await self.client.disconnect()
        except Exception:  # the link is going anyway; the will covers a failed goodbye
            log.debug("goodbye to broker %s failed", self.where, exc_info=True)

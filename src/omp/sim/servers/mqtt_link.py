"""``MqttLink``: one publishing MQTT session of the simulator that comes back by itself.

The simulator's publishers (Sparkplug B edge nodes, MQTT JSON gateways) each own
one link. A link connects (MQTT 3.1.1, clean session), subscribes and waits for
the SUBACK, then calls ``on_online``; when the broker goes away it calls
``on_offline``, waits with backoff and connects again with a new gmqtt client,
so every session can carry its own will (Sparkplug's NDEATH changes its
``bdSeq`` per session). gmqtt's own reconnect is disabled: one owner retries.

``publish`` never raises and never blocks: while offline a message is dropped
and counted, as QoS 0 would lose it anyway; publishers send their full state
again from ``on_online``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from gmqtt import Client, Message, Subscription
from gmqtt.mqtt.constants import MQTTv311

CONNECT_TIMEOUT = 10.0
"""Seconds to wait for CONNACK and SUBACK before the attempt counts as failed."""

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """Where a link connects: parsed once from ``mqtt://[user:pass@]host[:port]``.

    >>> BrokerAddress.parse("mqtts://sim:pw@broker.plant:8884").port
    8884
    >>> BrokerAddress.parse("mqtt://127.0.0.1").port
    1883
    """

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        """Raises ``ValueError`` naming the URL when it is not ``mqtt://`` or ``mqtts://``."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError(f"broker URL {url!r} must be mqtt://host[:port] or mqtts://...")
        tls = parts.scheme == "mqtts"
        return cls(
            host=parts.hostname,
            port=parts.port or (8883 if tls else 1883),
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class _Client(Client):  # type: ignore[misc]  # gmqtt has no type hints
    """A gmqtt client that never reconnects by itself (the link does)."""

    async def reconnect(self, delay: bool = False) -> None:
        return None


MessageHandler = Callable[[str, bytes], None]


class MqttLink:
    """One client id on one broker, reconnecting with backoff until ``stop``.

    ``will`` is asked for the session's will before every connection attempt.
    Callbacks run on the event loop that called ``start``; an exception in one
    is logged and does not end the session.
    """

    def __init__(
        self,
        address: BrokerAddress,
        client_id: str,
        *,
        will: Callable[[], Message | None] = lambda: None,
        subscriptions: Sequence[str] = (),
        on_online: Callable[[], None] = lambda: None,
        on_offline: Callable[[], None] = lambda: None,
        on_message: MessageHandler = lambda topic, payload: None,
        keepalive: int = 30,
        reconnect_initial: float = 0.1,
        reconnect_max: float = 5.0,
    ) -> None:
        self.address = address
        self.client_id = client_id
        self.dropped = 0
        """Messages ``publish`` could not send because the link was offline."""
        self.sessions = 0
        """Sessions that came online (1 after the first connect)."""
        self._will = will
        self._subscriptions = tuple(subscriptions)
        self._on_online = on_online
        self._on_offline = on_offline
        self._on_message = on_message
        self._keepalive = keepalive
        self._initial = reconnect_initial
        self._max = reconnect_max
        self._client: Any = None
        self._online = False
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    @property
    def online(self) -> bool:
        """Connected, subscribed, and not closing."""
        return self._online and self._client is not None and self._client.is_connected

    def start(self) -> None:
        """Begin connecting in the background (call on the loop that will publish)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"mqtt-link {self.client_id}"
            )

    def publish(self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False) -> bool:
        """Send now if online; else count the message as dropped. Never raises."""
        if not self.online:
            self.dropped += 1
            return False
        try:
            self._client.publish(topic, payload, qos=qos, retain=retain)
        except Exception:  # a socket closing under us: the session ends, counted as a drop
            self.dropped += 1
            return False
        return True

    async def drop(self) -> None:
        """End the current session with a DISCONNECT; the link connects again after backoff."""
        client = self._client
        if client is not None:
            with contextlib.suppress(Exception):
                await client.disconnect()

    async def stop(self) -> None:
        """Disconnect cleanly (no will) and stop reconnecting. Idempotent."""
        self._stopping.set()
        await self.drop()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        delay = self._initial
        while not self._stopping.is_set():
            lost = asyncio.Event()
            client = await self._connect(lost)
            if client is None:
                await self._pause(delay)
                delay = min(delay * 2, self._max)
                continue
            delay = self._initial
            self._session(client)
            await lost.wait()
            self._online = False
            self._client = None
            if not self._stopping.is_set():
                log.info("simulator MQTT link %s lost; reconnecting", self.client_id)
                self._failing = True
            self._call(self._on_offline)
            await self._pause(self._initial)

    def _session(self, client: Any) -> None:
        self._client = client
        self._online = True
        self.sessions += 1
        if self._failing:
            log.info("simulator MQTT link %s connected again", self.client_id)
            self._failing = False
        self._call(self._on_online)

    async def _connect(self, lost: asyncio.Event) -> Any:
        """A connected, subscribed client, or None (the first failure in a row is logged)."""
        subscribed = asyncio.Event()
        client = _Client(self.client_id, clean_session=True, will_message=self._will(), logger=log)
        client.on_disconnect = lambda *_: lost.set()
        client.on_subscribe = lambda *_: subscribed.set()
        client.on_message = self._deliver
        if self.address.username is not None:
            client.set_auth_credentials(self.address.username, self.address.password)
        try:
            await asyncio.wait_for(self._open(client, subscribed), CONNECT_TIMEOUT)
        except Exception as exc:  # refused, unreachable, timed out: retry after backoff
            if not self._failing:
                log.info("simulator MQTT link %s cannot connect: %s", self.client_id, exc)
                self._failing = True
            with contextlib.suppress(Exception):
                await client.disconnect()
            return None
        return client

    async def _open(self, client: Any, subscribed: asyncio.Event) -> None:
        address = self.address
        async with _connect_slots():
            await client.connect(
                address.host,
                address.port,
                ssl=address.tls,
                keepalive=self._keepalive,
                version=MQTTv311,
            )
        if self._subscriptions:
            client.subscribe([Subscription(topic, qos=1) for topic in self._subscriptions])
            await subscribed.wait()

    def _deliver(self, _client: Any, topic: str, payload: bytes, _qos: int, _props: Any) -> int:
        try:
            self._on_message(topic, payload)
        except Exception:  # a bad command must not end the session
            log.exception("simulator MQTT link %s: handling %s failed", self.client_id, topic)
        return 0

    def _call(self, callback: Callable[[], None]) -> None:
        try:
            callback()
        except Exception:
            log.exception("simulator MQTT link %s: callback failed", self.client_id)

    async def _pause(self, seconds: float) -> None:
        # Jitter spreads hundreds of links reconnecting after one broker restart.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds * random.uniform(0.5, 1.0))


CONNECTS_IN_FLIGHT = 32
"""Links of one loop connecting at once. A large plant starts hundreds of links together;
all at once they overflow the broker's listen backlog and the connections that fell off
wait out TCP's SYN retry (a second, then more)."""
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _connect_slots() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slots = _slots.get(loop)
    if slots is None:
        slots = _slots[loop] = asyncio.Semaphore(CONNECTS_IN_FLIGHT)
    return slots

"""``MqttJsonConnector``: subscribes to JSON topics on a broker and feeds their values.

One ``run`` is one MQTT connection: connect (persistent session by default),
subscribe, report connected, then decode every message into the feed until
the broker goes away, when ``run`` raises ``ConnectionLostError`` naming the
broker and the host reconnects after its backoff.

With ``qos: 1`` a message is acknowledged (PUBACK) only after its values have
been submitted to ingest (see ``acks``): a message omp has not taken stays
with the broker, which sends it again on the next connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from asyncio import FIRST_COMPLETED
from typing import Any

from gmqtt import Subscription
from gmqtt.mqtt.constants import MQTTv50, MQTTv311, PubRecReasonCode
from gmqtt.mqtt.handler import MQTTConnectError

from omp.connectors.base import (
    ConnectionLostError,
    ConnectorSpec,
    Options,
    Session,
    WriteError,
    WriteValue,
)
from omp.connectors.mqtt.acks import AckGate
from omp.connectors.mqtt.client import new_client
from omp.connectors.mqtt.decode import MessageDecoder
from omp.connectors.mqtt.options import MqttJsonOptions

_ACKED = int(PubRecReasonCode.SUCCESS)

DISCONNECT_TIMEOUT = 5.0
"""Seconds a clean disconnect may take before the connection is simply dropped."""
VERSION_PROBE_TIMEOUT = 3.0
"""Seconds ``protocol_version: auto`` waits for an MQTT 5 CONNACK before asking in 3.1.1."""


class _NoAnswerToVersionError(Exception):
    """No CONNACK to an MQTT 5 CONNECT while probing: try the next version."""


class _Link:
    """What gmqtt's callbacks tell the run: the SUBACK, and that the connection is gone."""

    def __init__(self) -> None:
        self.up = False
        """Connected (CONNACK received) and not lost since."""
        self.lost = asyncio.Event()
        self.suback: asyncio.Future[tuple[int, ...]] = asyncio.get_running_loop().create_future()

    def on_disconnect(self, client: Any, packet: object, exc: object = None) -> None:
        self.up = False
        self.lost.set()

    def on_subscribe(self, client: Any, mid: int, granted: tuple[int, ...], props: object) -> None:
        if not self.suback.done():
            self.suback.set_result(tuple(granted))


class MqttJsonConnector:
    """See the module docstring; made by ``PLUGIN.create`` from a ``ConnectorSpec``."""

    def __init__(self, spec: ConnectorSpec[Options]) -> None:
        configured = spec.options
        if not isinstance(configured, MqttJsonOptions):
            raise TypeError(f"connector {spec.name!r}: options are not MQTT JSON options")
        options = configured.with_default_url(spec.broker_url)
        self._name = spec.name
        self._learned_version: int | None = None
        # model_copy keeps the class; the check tells mypy so
        self._options = options if isinstance(options, MqttJsonOptions) else configured

    @property
    def broker(self) -> str:
        """The broker's URL without its password, for errors and logs."""
        return self._options.redacted_url

    async def run(self, session: Session) -> None:
        options = self._options
        versions = self._versions_to_try()
        for position, version in enumerate(versions):
            client = new_client(options, options.client_id or f"omp-{self._name}")
            link = _Link()
            decoder = MessageDecoder(
                options.topics, session.feed, session.health, session.clock, session.log
            )
            gate = AckGate(session.feed, session.health) if options.qos == 1 else None
            client.on_disconnect = link.on_disconnect
            client.on_subscribe = link.on_subscribe
            client.on_message = _acking_handler(decoder, gate) if gate else _handler(decoder)
            probing = position < len(versions) - 1
            try:
                try:
                    await self._connect(client, version, probing=probing)
                except _NoAnswerToVersionError:
                    continue  # the broker ignored or refused MQTT 5: ask again in 3.1.1
                self._learned_version = version
                link.up = not link.lost.is_set()
                qos = options.qos
                client.subscribe([Subscription(t.filter, qos=qos) for t in options.topics])
                session.health.connected()
                await self._until_lost(link, session)
            finally:
                await _close(client, gate, link)

    def _versions_to_try(self) -> list[int]:
        """``auto`` asks for MQTT 5 first, then 3.1.1, until one worked; then only that one."""
        wanted = self._options.protocol_version
        if wanted != "auto":
            return [MQTTv311 if wanted == "3.1.1" else MQTTv50]
        if self._learned_version is not None:
            return [self._learned_version]
        return [MQTTv50, MQTTv311]

    async def write(self, address: str, value: WriteValue) -> None:
        raise WriteError(
            f"connector {self._name!r} reads MQTT JSON topics only; it cannot write {address!r}"
        )

    async def _connect(self, client: Any, version: int, *, probing: bool) -> None:
        """Connect in ``version``; ``probing`` (MQTT 5 under ``auto``) gives up quickly.

        gmqtt answers a broker's refusal of MQTT 5 (CONNACK 1) by reconnecting
        itself, which omp switches off, so the refusal shows as no answer.
        """
        options = self._options
        timeout = VERSION_PROBE_TIMEOUT if probing else max(10, options.keepalive)
        try:
            await asyncio.wait_for(
                client.connect(
                    options.host,
                    options.port,
                    ssl=options.ssl_context(),
                    keepalive=options.keepalive,
                    version=version,
                ),
                timeout=timeout,
            )
        except MQTTConnectError as exc:
            raise ConnectionLostError(f"MQTT broker {self.broker} refused omp: {exc}") from None
        except TimeoutError:
            if probing:
                raise _NoAnswerToVersionError from None
            raise ConnectionLostError(f"MQTT broker {self.broker} did not answer") from None
        except OSError as exc:
            raise ConnectionLostError(f"MQTT broker {self.broker} unreachable: {exc}") from None

    async def _until_lost(self, link: _Link, session: Session) -> None:
        """Wait for the link to drop, taking the SUBACK when it comes.

        A resumed session's queued messages flow right after the CONNACK, so the
        SUBACK may come only after thousands of them; nothing waits for it.
        """
        lost = asyncio.ensure_future(link.lost.wait())
        try:
            either: set[asyncio.Future[Any]] = {lost, link.suback}
            done, _ = await asyncio.wait(either, return_when=FIRST_COMPLETED)
            if link.suback in done:
                self._granted(link.suback.result(), session)
                await lost
        finally:
            lost.cancel()
        raise ConnectionLostError(f"MQTT broker {self.broker} closed the connection")

    def _granted(self, granted: tuple[int, ...], session: Session) -> None:
        """Each subscription is a device: connected, or lost with the broker's refusal code."""
        topics = self._options.topics
        refused = 0
        for topic, code in zip(topics, granted, strict=False):
            if code >= 0x80:
                refused += 1
                session.health.lost(
                    f"broker refused subscription {topic.filter!r} (code {code:#x})",
                    device=topic.filter,
                )
            elif topic.device_levels is None:
                session.health.connected(device=topic.filter)
        if refused == len(topics):
            raise ConnectionLostError(f"MQTT broker {self.broker} refused every subscription")


def _handler(decoder: MessageDecoder) -> Any:
    """QoS 0: decode and return (gmqtt acknowledges any QoS 1 delivery optimistically)."""

    def on_message(client: Any, topic: str, payload: bytes, qos: int, props: object) -> None:
        decoder.decode(topic, payload)

    return on_message


def _acking_handler(decoder: MessageDecoder, gate: AckGate) -> Any:
    """QoS 1: gmqtt sends the PUBACK when this coroutine returns, after the submit."""

    async def on_message(client: Any, topic: str, payload: bytes, qos: int, props: object) -> int:
        decoder.decode(topic, payload)
        await gate.submitted()
        return _ACKED

    return on_message


async def _close(client: Any, gate: AckGate | None, link: _Link) -> None:
    """Acknowledge what was submitted if the link is still up, then disconnect.

    Messages whose values could not be submitted stay unacknowledged: the
    broker redelivers them to the next session.
    """
    connected = link.up
    if not connected:
        # A connect that got no CONNACK still holds its socket: close it.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.disconnect(), DISCONNECT_TIMEOUT)
    if gate is not None and gate.waiting and connected and gate.try_flush():
        for _ in range(3):  # waiter wakes, returns, gmqtt's done-callback writes the PUBACK
            await asyncio.sleep(0)
    if connected:
        # A broker that stopped reading must not hold the host's stop.
        with contextlib.suppress(TimeoutError, OSError):
            await asyncio.wait_for(client.disconnect(), DISCONNECT_TIMEOUT)
    if gate is not None:
        gate.release()

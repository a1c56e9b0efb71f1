"""``SparkplugHost``: the Sparkplug B host application on one MQTT broker session.

``run`` connects with a clean session and the host's death as the MQTT will
(``spBv1.0/STATE/<host_id>``, ``{"online": false, "timestamp": t}``, QoS 1,
retained), subscribes to the Sparkplug namespace and its own STATE topic,
then publishes its birth with the same ``t``. Messages go to a fresh
``HostHandler`` (every session starts from births). When the link drops,
every known signal is marked stale and ``ConnectionLostError`` tells the
connector host to reconnect with backoff; gmqtt's own reconnect is off.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from gmqtt import Client, Message, Subscription
from gmqtt.mqtt.constants import MQTTv311

from omp.connectors.base import (
    ConnectionLostError,
    ConnectorSpec,
    Options,
    Session,
    WriteError,
    WriteValue,
)
from omp.connectors.sparkplug.commands import command
from omp.connectors.sparkplug.handler import HostHandler
from omp.connectors.sparkplug.options import SparkplugOptions, state_topic
from omp.connectors.sparkplug.rebirth import Rebirths
from omp.core.time import Clock

CONNECT_TIMEOUT = 10.0
"""Seconds to wait for CONNACK and SUBACK before calling the broker unreachable."""
REPORT_INTERVAL = 1.0
"""Seconds between hand-overs of message counts to health."""


class _Client(Client):  # type: ignore[misc]  # gmqtt has no type hints
    """A gmqtt client that never reconnects by itself: the connector host does, with backoff
    and a clean session, as Sparkplug requires."""

    async def reconnect(self, delay: bool = False) -> None:
        return None


def state_payload(online: bool, timestamp_ms: int) -> bytes:
    """The host's STATE birth or death (Sparkplug 3.0): JSON with ``online`` and ``timestamp``."""
    return json.dumps({"online": online, "timestamp": timestamp_ms}).encode()


@dataclass(slots=True)
class _Live:
    """The running session that ``write`` sends through."""

    client: Any
    handler: HostHandler
    clock: Clock


class SparkplugHost:
    """The connector; see the module docstring."""

    def __init__(self, spec: ConnectorSpec[Options]) -> None:
        assert isinstance(spec.options, SparkplugOptions)
        self._options: SparkplugOptions = spec.options
        self._live: _Live | None = None

    async def run(self, session: Session) -> None:
        options = self._options.with_default_url(session.spec.broker_url)
        assert isinstance(options, SparkplugOptions)
        host_id = options.host_id_for(session.spec.name)
        own_state = state_topic(host_id)
        born_ms = session.clock() // 1000
        lost = asyncio.Event()
        subscribed = asyncio.Event()
        crash: list[Exception] = []
        client = _Client(
            options.client_id or f"omp-{session.spec.name}",
            clean_session=True,
            will_message=Message(own_state, state_payload(False, born_ms), qos=1, retain=True),
            logger=logging.getLogger(f"{session.log.name}.mqtt"),
        )

        def publish(topic: str, payload: bytes) -> None:
            if client.is_connected:
                client.publish(topic, payload, qos=0)

        def on_crash(exc: Exception) -> None:  # a decoder bug: end the session; the host reports
            crash.append(exc)
            lost.set()

        def republish_birth(raw: bytes) -> None:
            if _needs_rebirth(raw, born_ms):
                session.log.warning(
                    "%s was marked offline by someone else: online again", own_state
                )
                client.publish(own_state, state_payload(True, born_ms), qos=1, retain=True)

        handler = HostHandler(
            session.feed,
            session.health,
            clock=session.clock,
            log=session.log,
            rebirths=Rebirths(
                publish if options.rebirth.enabled else None,
                min_interval_us=options.rebirth.min_interval,
                clock=session.clock,
                log=session.log,
            ),
            stale=options.stale_quality.quality,
            on_own_state=republish_birth,
            on_crash=on_crash,
            host_state_topic=own_state,
        )
        client.on_message = handler.on_message
        client.on_disconnect = lambda *_: lost.set()
        client.on_subscribe = lambda *_: subscribed.set()
        login = options.login
        if login is not None:
            client.set_auth_credentials(*login)
        where = options.redacted_url
        try:
            await self._connect(client, options, options.subscriptions(host_id), subscribed, where)
            client.publish(own_state, state_payload(True, born_ms), qos=1, retain=True)
            self._live = _Live(client, handler, session.clock)
            session.health.connected()
            await self._serve(handler, lost)
            if crash:
                raise crash[0]
            raise ConnectionLostError(f"broker {where}: connection lost")
        finally:
            self._live = None
            handler.all_lost(f"host lost broker {where}")
            handler.report_received()
            await _goodbye(client, own_state, born_ms)

    async def _connect(
        self,
        client: Any,
        options: SparkplugOptions,
        topics: tuple[str, ...],
        subscribed: asyncio.Event,
        where: str,
    ) -> None:
        """Connect, then subscribe to ``topics`` and wait for the SUBACK (before any STATE)."""
        try:
            await asyncio.wait_for(
                client.connect(
                    options.host,
                    options.port,
                    ssl=options.ssl_context(),
                    keepalive=options.keepalive,
                    version=MQTTv311,
                ),
                CONNECT_TIMEOUT,
            )
        except (OSError, TimeoutError) as exc:
            raise ConnectionLostError(f"broker {where}: {exc or type(exc).__name__}") from exc
        except Exception as exc:  # gmqtt's refusals (bad login, not authorised)
            raise ConnectionLostError(f"broker {where} refused the connection: {exc}") from exc
        client.subscribe([Subscription(topic, qos=1) for topic in topics])
        try:
            await asyncio.wait_for(subscribed.wait(), CONNECT_TIMEOUT)
        except TimeoutError:
            raise ConnectionLostError(f"broker {where}: no answer to SUBSCRIBE") from None

    async def _serve(self, handler: HostHandler, lost: asyncio.Event) -> None:
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lost.wait(), REPORT_INTERVAL)
            handler.report_received()

    async def write(self, address: str, value: WriteValue) -> None:
        """Send ``value`` to a metric of an online edge node or device (NCMD or DCMD)."""
        live = self._live
        if live is None or not live.client.is_connected:
            raise WriteError(f"no broker session to write {address!r}")
        topic, payload = command(live.handler.nodes, address, value, live.clock() // 1000)
        live.client.publish(topic, payload, qos=0)


def _needs_rebirth(raw: bytes, born_ms: int) -> bool:
    """True when a STATE on our own topic says we are offline, newer than our birth."""
    try:
        state = json.loads(raw)
        return state.get("online") is False and int(state.get("timestamp", 0)) >= born_ms
    except (ValueError, TypeError, AttributeError):
        return False


async def _goodbye(client: Any, own_state: str, born_ms: int) -> None:
    """Publish the STATE death, then disconnect (the spec's intentional disconnect)."""
    try:
        if client.is_connected:
            client.publish(own_state, state_payload(False, born_ms), qos=1, retain=True)
            await client.disconnect()
    except Exception:  # the link is going anyway; the will covers a failed goodbye
        logging.getLogger(__name__).debug("goodbye to the broker failed", exc_info=True)

"""``SparkplugHost``: the Sparkplug B host application connector.

``run`` opens a ``BrokerSession`` (clean MQTT session, STATE will and birth),
hands every message to a fresh ``HostHandler`` (every session starts from
births), and when the link drops marks every known signal stale and raises
``ConnectionLostError`` so the connector host reconnects with backoff.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

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
from omp.connectors.sparkplug.options import SparkplugOptions
from omp.connectors.sparkplug.rebirth import Rebirths
from omp.connectors.sparkplug.session import BrokerSession
from omp.core.time import Clock

REPORT_INTERVAL = 1.0
"""Seconds between hand-overs of message counts to health."""


@dataclass(slots=True)
class _Live:
    """The running session that ``write`` sends through."""

    broker: BrokerSession
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
        name = session.spec.name
        broker = BrokerSession(
            options,
            host_id=options.host_id_for(name),
            client_id=options.client_id or f"omp-{name}",
            born_ms=session.clock() // 1000,
        )
        handler = self._handler(session, options, broker)
        broker.client.on_message = handler.on_message
        stopping = False
        try:
            await broker.open()
            self._live = _Live(broker, handler, session.clock)
            session.health.connected()
            await broker.wait_lost(REPORT_INTERVAL, handler.report_received)
            if broker.crash is not None:
                raise broker.crash
            raise ConnectionLostError(f"broker {broker.where}: connection lost")
        except asyncio.CancelledError:  # the connector host stops us: not a loss to report
            stopping = True
            raise
        finally:
            self._live = None
            handler.all_lost(f"host lost broker {broker.where}", report=not stopping)
            handler.report_received()
            await broker.close()

    def _handler(
        self, session: Session, options: SparkplugOptions, broker: BrokerSession
    ) -> HostHandler:
        rebirths = Rebirths(
            broker.publish if options.rebirth.enabled else None,
            min_interval_us=options.rebirth.min_interval,
            clock=session.clock,
            log=session.log,
        )
        return HostHandler(
            session.feed,
            session.health,
            clock=session.clock,
            log=session.log,
            rebirths=rebirths,
            stale=options.stale_quality.quality,
            on_own_state=broker.on_own_state,
            on_crash=broker.on_crash,
            host_state_topic=broker.state_topic,
        )

    async def write(self, address: str, value: WriteValue) -> None:
        """Send ``value`` to a metric of an online edge node or device (NCMD or DCMD)."""
        live = self._live
        if live is None or not live.broker.client.is_connected:
            raise WriteError(f"no broker session to write {address!r}")
        topic, payload = command(live.handler.nodes, address, value, live.clock() // 1000)
        live.broker.publish(topic, payload)

"""Connectors in a running platform: which protocols exist, the broker, the UNS publisher.

``attach_connectors`` plugs into a ``Platform``, in start order: the embedded
MQTT broker (only when something needs a broker and the settings name none),
the connector host, the unified-namespace publisher and the model watcher.
``check_options`` is how ``omp check`` and ``Platform.open`` type each
connector's protocol options with that connector's own schema.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from omp.connectors import modbus, mqtt, opcua, sparkplug
from omp.connectors.base import ConnectorPlugin, first_option_problem, option_problems
from omp.connectors.broker import EmbeddedBroker
from omp.connectors.host import ConnectorHost
from omp.connectors.mqtt_transport import MqttEndpoint
from omp.connectors.uns import UnsOptions, UnsPublisher
from omp.core.batch import PointBatch, SourceBatch, TextBatch
from omp.core.errors import ConfigError
from omp.core.events import Event
from omp.core.net import any_free_port, port_free
from omp.core.rejects import RejectReason
from omp.ingest import Ingest
from omp.model import Registry
from omp.model.kinds import Protocol
from omp.runtime.model_watch import ModelWatcher
from omp.runtime.platform import Platform
from omp.runtime.settings import Settings

log = logging.getLogger(__name__)

PLUGINS: Mapping[Protocol, ConnectorPlugin] = {
    plugin.protocol: plugin
    for plugin in (opcua.PLUGIN, mqtt.PLUGIN, sparkplug.PLUGIN, modbus.PLUGIN)
}
"""Every protocol omp speaks."""

SUBMIT_TIMEOUT = 2.0
"""Seconds a connector's flush waits for room in the historian queue before it keeps its rows
and tries again on the next tick (so its loop keeps serving keepalives)."""

_MQTT_BASED = (Protocol.MQTT, Protocol.SPARKPLUG)


def check_options(
    protocol: Protocol, options: Mapping[str, Any]
) -> Sequence[tuple[tuple[str | int, ...], str]]:
    """Problems in one connector's protocol options, as (path, message) pairs."""
    plugin = PLUGINS.get(protocol)
    if plugin is None:
        return [((), f"omp has no connector for protocol {protocol}")]
    try:
        plugin.options.model_validate(dict(options))
    except ValidationError as exc:
        return option_problems(exc)
    return []


class IngestSink:
    """Ingest as a ``ConnectorSink``, with a bounded wait under backpressure."""

    def __init__(self, ingest: Ingest, *, timeout: float = SUBMIT_TIMEOUT) -> None:
        self._ingest = ingest
        self._timeout = timeout

    def submit(self, batch: SourceBatch | PointBatch | TextBatch) -> object:
        return self._ingest.submit(batch, timeout=self._timeout)

    def submit_events(self, events: Sequence[Event]) -> None:
        self._ingest.submit_events(events, timeout=self._timeout)

    def record_rejects(
        self,
        reason: RejectReason,
        count: int = 1,
        *,
        connector: str | None = None,
        source: str | None = None,
    ) -> None:
        self._ingest.record_rejects(reason, count, connector=connector, source=source)


def uns_options(settings: Settings) -> UnsOptions:
    try:
        return UnsOptions.model_validate(settings.uns)
    except ValidationError as exc:
        raise ConfigError(f"settings uns.{first_option_problem(exc)}") from None


def needs_broker(registry: Registry, uns: UnsOptions) -> bool:
    """Whether anything would talk to the platform broker: an MQTT-based connector that names
    no broker of its own, or the UNS publisher."""
    for connector in registry.model.connectors.values():
        if connector.protocol in _MQTT_BASED and not connector.options.get("url"):
            return True
    return uns.enabled


def attach_connectors(
    platform: Platform, *, plugins: Mapping[Protocol, ConnectorPlugin] = PLUGINS
) -> str | None:
    """Plug broker, connector host, UNS publisher and model watcher into ``platform``.

    Returns the platform broker's URL (None when nothing needs one). Raises
    ``ConfigError`` naming a bad setting or connector option.
    """
    settings = platform.settings
    uns = uns_options(settings)
    broker_url = settings.mqtt_url
    if broker_url is None and needs_broker(platform.registry, uns):
        broker = EmbeddedBroker(settings.broker_host, _broker_port(settings))
        platform.add_service(broker)
        broker_url = broker.url
    host = ConnectorHost(
        platform.registry,
        IngestSink(platform.ingest),
        plugins,
        clock=platform.clock,
        broker_url=broker_url,
    )
    platform.add_service(host)
    platform.on_reload(host.reload)
    platform.setpoint_writer = host
    if uns.enabled and broker_url is not None:
        endpoint = MqttEndpoint(url=broker_url, client_id="omp-uns")
        publisher = UnsPublisher(platform.registry, platform.bus, endpoint, uns)
        platform.add_service(publisher)
        platform.on_reload(publisher.use_registry)
    interval = settings.model_watch_interval / 1_000_000
    platform.add_service(ModelWatcher(platform, interval=interval))
    return broker_url


DEFAULT_BROKER_PORT = 1883


def _broker_port(settings: Settings, default: int = DEFAULT_BROKER_PORT) -> int:
    """The embedded broker's port: as set, else 1883 when free, else any free port.

    The port is chosen now, before the broker starts, because the connectors are
    configured with the broker's URL first.
    """
    wanted = settings.broker_port
    if wanted is None:
        if port_free(settings.broker_host, default):
            return default
        log.warning(
            "%s:%d is taken (another MQTT broker?); the embedded broker takes a free port. "
            "Set mqtt_url to use that broker instead, or broker_port to choose a port",
            settings.broker_host,
            default,
        )
        wanted = 0
    return wanted or any_free_port(settings.broker_host)

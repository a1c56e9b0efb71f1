"""The MQTT JSON connector: values from JSON payloads on subscribed MQTT topics.

See ``docs/connectors/mqtt.md``. The package exports ``PLUGIN`` for the runtime.
"""

from __future__ import annotations

from omp.connectors.base import ConnectorPlugin, ConnectorSpec, Options
from omp.connectors.mqtt.connector import MqttJsonConnector
from omp.connectors.mqtt.options import MqttJsonOptions, TopicOptions
from omp.model.kinds import Protocol


def _create(spec: ConnectorSpec[Options]) -> MqttJsonConnector:
    return MqttJsonConnector(spec)


PLUGIN = ConnectorPlugin(
    protocol=Protocol.MQTT,
    options=MqttJsonOptions,
    create=_create,
    description="JSON payloads on MQTT topics (gmqtt, QoS 0 or 1, persistent sessions)",
)

__all__ = ["PLUGIN", "MqttJsonConnector", "MqttJsonOptions", "TopicOptions"]

"""The Sparkplug B host application connector (Sparkplug 3.0).

Subscribes to ``spBv1.0/...``, follows every edge node's births, deaths and
sequence numbers, and emits each metric as
``<group>/<edge node>/<device>/<metric>`` (``_node`` as the device for edge
node metrics). See docs/connectors/sparkplug.md.
"""

from __future__ import annotations

from omp.connectors.base import ConnectorPlugin
from omp.connectors.sparkplug.connector import SparkplugHost
from omp.connectors.sparkplug.options import SparkplugOptions
from omp.model.kinds import Protocol

PLUGIN = ConnectorPlugin(
    protocol=Protocol.SPARKPLUG,
    options=SparkplugOptions,
    create=SparkplugHost,
    description="Sparkplug B 3.0 host application: births, deaths, aliases, rebirth requests",
)

__all__ = ["PLUGIN", "SparkplugHost", "SparkplugOptions"]

"""OPC UA connector: subscribes to nodes of one server and feeds their values into omp.

See docs/connectors/opcua.md for options, address forms and behaviour.
"""

from __future__ import annotations

from omp.connectors.base import ConnectorPlugin
from omp.connectors.opcua.connector import OpcUaConnector
from omp.connectors.opcua.options import OpcUaOptions
from omp.model.kinds import Protocol

PLUGIN = ConnectorPlugin(
    protocol=Protocol.OPCUA,
    options=OpcUaOptions,
    create=OpcUaConnector,
    description="OPC UA client: subscriptions per group, browse paths, write-back, security",
)

__all__ = ["PLUGIN", "OpcUaConnector", "OpcUaOptions"]

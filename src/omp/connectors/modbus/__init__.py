"""The Modbus TCP connector: polled reads of coils and registers, coalesced, and write-back.

Addresses follow ``omp.model.addresses`` (``[<unit>:]<table>:<register>[:<type>[:<order>]]``);
see docs/connectors/modbus.md for options, health and limits.
"""

from __future__ import annotations

from omp.connectors.base import ConnectorPlugin
from omp.connectors.modbus.connector import ModbusConnector
from omp.connectors.modbus.options import ModbusOptions
from omp.model.kinds import Protocol

PLUGIN = ConnectorPlugin(
    protocol=Protocol.MODBUS,
    options=ModbusOptions,
    create=ModbusConnector,
    description="Modbus TCP: polled coils and registers, several unit ids per gateway",
)

__all__ = ["PLUGIN", "ModbusConnector", "ModbusOptions"]

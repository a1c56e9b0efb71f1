"""What every protocol module shares: where the servers listen, and what the model needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omp.sim.plant import MachineSpec, Plant, Served


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where the simulator listens (OPC UA, Modbus) and publishes (MQTT).

    ``modbus_port`` is the first of a range: Modbus gateway ``k`` (one per line
    served over Modbus, in plant order) listens on ``modbus_port + k``.
    """

    host: str = "127.0.0.1"
    opcua_port: int = 4840
    modbus_port: int = 5020
    mqtt_url: str = "mqtt://127.0.0.1:1883"


@dataclass(slots=True)
class ServedSection:
    """The factory-model part one protocol module contributes.

    ``connectors`` maps connector names to their options as written in the
    model file (``protocol`` included). ``bindings`` maps a machine's index to
    the connector that reads it and, when the connector has no ``map`` rule
    covering it, the address of each signal (signal name -> address).
    """

    connectors: dict[str, dict[str, Any]] = field(default_factory=dict)
    bindings: dict[int, tuple[str, dict[str, str]]] = field(default_factory=dict)


def served_by(plant: Plant, served: Served) -> list[MachineSpec]:
    """The machines a protocol module serves, in plant order."""
    return [m for m in plant.machines if m.served is served]

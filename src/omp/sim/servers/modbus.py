"""The plant's Modbus machines behind Modbus TCP gateways, and how the platform binds them.

``ModbusGateways(plant, endpoints)`` runs one pymodbus TCP server per line
served over Modbus, like a serial-to-TCP gateway in front of the line's PLCs:
gateway ``k`` (lines in plant order) listens on ``endpoints.modbus_port + k``,
and the line's machines answer as unit ids 1, 2, ... in flow order. Each unit
serves its kind's register map (``modbus_map``) in both the holding and the
input table, read-only: writes answer exception 2 (illegal data address).
A unit id the gateway does not have answers exception 10 (gateway path
unavailable), a register beyond the map exception 2; nothing goes unanswered.

``publish(frame)`` re-encodes the machines whose values changed into their
register images; a read copies the requested window of the image into the
pymodbus datastore just before pymodbus answers (its ``action`` hook).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from omp.sim.frame import Frame, Value
from omp.sim.plant import LineSpec, MachineSpec, Plant, Served
from omp.sim.servers.base import Endpoints, ServedSection
from omp.sim.servers.modbus_map import RegisterField, encode, register_count, register_map

_log = logging.getLogger(__name__)

POLL_INTERVAL = "1s"
_READS = {3, 4}


def modbus_lines(plant: Plant) -> list[LineSpec]:
    """The lines served over Modbus, in plant order: line ``k`` is gateway ``k``."""
    return [line for line in plant.lines if line.machines[0].served is Served.MODBUS]


def connector_name(line: LineSpec) -> str:
    return f"sim_modbus_{line.site}_{line.name}"


@dataclass(slots=True)
class _Unit:
    """One machine behind a gateway: its register image and the row it was encoded from."""

    machine: MachineSpec
    fields: tuple[RegisterField, ...]
    image: list[int]
    last: list[Value] | None = None


class _Gateway:
    """One line's pymodbus server."""

    def __init__(self, line: LineSpec, host: str, port: int) -> None:
        self.line = line
        self.host = host
        self.port = port
        self.units = {
            unit: _Unit(m, register_map(m.kind), [0] * register_count(m.kind))
            for unit, m in enumerate(line.machines, 1)
        }
        self.server: ModbusTcpServer | None = None

    async def start(self) -> None:
        devices = [self._device(unit_id, unit) for unit_id, unit in self.units.items()]
        size = max(len(unit.image) for unit in self.units.values())
        devices.append(_unknown_units(size))
        self.server = ModbusTcpServer(devices, address=(self.host, self.port))
        await self.server.serve_forever(background=True)

    async def stop(self) -> None:
        server, self.server = self.server, None
        if server is None:
            return
        await server.shutdown()  # type: ignore[no-untyped-call]  # pymodbus leaves it unannotated
        # A client connecting while the listener closes can still be accepted: close those too,
        # so no socket outlives the gateway.
        for _ in range(3):
            await asyncio.sleep(0.01)
            for connection in list(server.active_connections.values()):
                connection.close()

    def update(self, frame: Frame) -> None:
        for unit in self.units.values():
            row = list(frame.values[unit.machine.index])
            if row != unit.last:
                encode(unit.fields, row, unit.image)
                unit.last = row

    def _device(self, unit_id: int, unit: _Unit) -> SimDevice:
        def table() -> list[SimData]:
            return [SimData(0, values=list(unit.image), datatype=DataType.REGISTERS, readonly=True)]

        return SimDevice(
            id=unit_id,
            simdata=(_no_bits(), _no_bits(), table(), table()),
            action=functools.partial(_serve, unit.image),
        )


def _no_bits() -> list[SimData]:
    return [SimData(0, values=[False], datatype=DataType.BITS, readonly=True)]


def _unknown_units(size: int) -> SimDevice:
    """Unit id 0 is pymodbus's catch-all: every unit the gateway does not have lands here."""
    table = [SimData(0, count=size, values=0, datatype=DataType.REGISTERS, readonly=True)]
    return SimDevice(id=0, simdata=(_no_bits(), _no_bits(), table, list(table)), action=_absent)


async def _serve(
    image: list[int],
    function_code: int,
    start_address: int,
    address: int,
    count: int,
    registers: list[int],
    values: object,
) -> ExcCodes | None:
    """Refresh the requested window from the machine's image before pymodbus answers."""
    if function_code in _READS:
        offset = address - start_address
        registers[offset : offset + count] = image[offset : offset + count]
    return None


async def _absent(*_: object) -> ExcCodes:
    return ExcCodes.GATEWAY_PATH_UNAVIABLE  # (sic) pymodbus's spelling of exception 10


class ModbusGateways:
    """A ``FrameOutput``: a Modbus TCP gateway per Modbus line, a unit id per machine."""

    name = "modbus"

    def __init__(self, plant: Plant, endpoints: Endpoints) -> None:
        self._gateways = [
            _Gateway(line, endpoints.host, endpoints.modbus_port + k)
            for k, line in enumerate(modbus_lines(plant))
        ]

    @property
    def ports(self) -> list[int]:
        return [gateway.port for gateway in self._gateways]

    async def start(self) -> None:
        """Listen on every gateway's port; raises ``OSError`` (after closing those opened)
        if one is taken."""
        try:
            for gateway in self._gateways:
                await gateway.start()
        except BaseException:
            await self.stop()
            raise
        _log.info(
            "Modbus TCP gateways for %d lines on ports %s",
            len(self._gateways),
            _port_range(self.ports),
        )

    def publish(self, frame: Frame) -> None:
        for gateway in self._gateways:
            gateway.update(frame)

    async def stop(self) -> None:
        for gateway in self._gateways:
            await gateway.stop()


def _port_range(ports: list[int]) -> str:
    return f"{ports[0]}-{ports[-1]}" if ports else "(none)"


def model_section(plant: Plant, endpoints: Endpoints) -> ServedSection:
    """A connector per gateway and, per machine, its unit's register of every signal."""
    section = ServedSection()
    for k, line in enumerate(modbus_lines(plant)):
        name = connector_name(line)
        section.connectors[name] = {
            "protocol": "modbus",
            "description": f"Simulated Modbus TCP gateway of {line.site}/{line.area}/{line.name}",
            "host": endpoints.host,
            "port": endpoints.modbus_port + k,
            "unit_id": 1,
            "poll_interval": POLL_INTERVAL,
            "timeout": "1s",
        }
        for unit, machine in enumerate(line.machines, 1):
            section.bindings[machine.index] = (
                name,
                {
                    field.name: f"{unit}:holding:{field.register}:{field.datatype}"
                    for field in register_map(machine.kind)
                },
            )
    return section

"""The simulator's Modbus TCP gateways, checked with an independent pymodbus client and the
omp Modbus connector: register map, decoding, exceptions instead of silence, bindings."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Iterator
from typing import Any

import pytest
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.pdu import ExceptionResponse

from omp.connectors.modbus import PLUGIN
from omp.model.kinds import Protocol
from omp.runtime.demo import free_range
from omp.sim.frame import Frame
from omp.sim.plant import LineSpec, Plant, Served, build_plant
from omp.sim.servers.base import Endpoints, served_by
from omp.sim.servers.modbus import ModbusGateways, connector_name, modbus_lines, model_section
from omp.sim.servers.modbus_map import STRING_BYTES, register_count, register_map
from tests.connectors.support import running_host, wait_for
from tests.sim.servers import OnLoop
from tests.sim.servers.test_opcua import frame_at, served_registry

TS = 1_767_225_600_000_000
PLANT = build_plant(26)


class Running(OnLoop):
    """Started ``ModbusGateways`` on their own loop in a thread."""

    def __init__(self, plant: Plant = PLANT) -> None:
        first = free_range("127.0.0.1", None, len(modbus_lines(plant)))
        self.endpoints = Endpoints(modbus_port=first)
        self.gateways = ModbusGateways(plant, self.endpoints)
        super().__init__(self.gateways, timeout=30)

    def publish(self, frame: Frame) -> None:
        async def publish() -> None:
            self.gateways.publish(frame)

        self.call(publish())


@pytest.fixture(scope="module")
def running() -> Iterator[Running]:
    served = Running()
    served.publish(frame_at(TS))
    yield served
    served.close()


def read(port: int, scenario: Any) -> Any:
    async def main() -> Any:
        client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2, retries=0)
        await client.connect()
        try:
            return await scenario(client)
        finally:
            client.close()

    return asyncio.run(main())


def decode(registers: list[int], datatype: str) -> float | int | str:
    raw = struct.pack(f">{len(registers)}H", *registers)
    if datatype == "float32":
        return float(struct.unpack(">f", raw)[0])
    if datatype == "uint32":
        return int(struct.unpack(">I", raw)[0])
    if datatype == "uint16":
        return registers[0]
    return raw.rstrip(b"\0").decode()


def test_every_gateway_serves_its_lines_machines_as_unit_ids(running: Running) -> None:
    lines = modbus_lines(PLANT)
    assert (
        [line.machines[0].served for line in lines]
        == [Served.MODBUS] * len(lines)
        == [Served.MODBUS] * 2
    )
    expected = frame_at(TS)
    for k, line in enumerate(lines):

        async def scenario(
            client: AsyncModbusTcpClient, line: LineSpec = line
        ) -> dict[int, list[int]]:
            out = {}
            for unit, machine in enumerate(line.machines, 1):
                count = register_count(machine.kind)
                response = await client.read_holding_registers(0, count=count, device_id=unit)
                assert not response.isError(), response
                out[unit] = response.registers
            return out

        seen = read(running.endpoints.modbus_port + k, scenario)
        assert set(seen) == {1, 2}
        for unit, machine in enumerate(line.machines, 1):
            row = expected.values[machine.index]
            for field in register_map(machine.kind):
                window = seen[unit][field.register : field.register + field.size]
                value = decode(window, field.datatype)
                if field.datatype == "float32":
                    assert value == pytest.approx(row[field.signal], rel=1e-6), field.name
                else:
                    assert value == row[field.signal], field.name


def test_input_registers_mirror_holding_and_changes_show_on_the_next_read(
    running: Running,
) -> None:
    machine = modbus_lines(PLANT)[0].machines[1]
    fields = {field.name: field for field in register_map(machine.kind)}
    changed = frame_at(TS + 1_000_000, step=3)
    changed.values[machine.index][fields["good_count"].signal] = 2**32 + 70_000  # wraps
    changed.values[machine.index][fields["current_order"].signal] = "Ä" * 40  # cut to 32 bytes

    async def scenario(client: AsyncModbusTcpClient) -> tuple[list[int], list[int]]:
        holding = await client.read_holding_registers(0, count=40, device_id=2)
        running.publish(changed)
        inputs = await client.read_input_registers(0, count=40, device_id=2)
        return holding.registers, inputs.registers

    before, after = read(running.endpoints.modbus_port, scenario)
    good = fields["good_count"]
    order = fields["current_order"]
    assert (
        decode(before[good.register : good.register + 2], "uint32")
        == (frame_at(TS).values[machine.index][good.signal])
    )
    assert decode(after[good.register : good.register + 2], "uint32") == 70_000
    assert decode(after[order.register : order.register + 16], "string32") == "Ä" * 16
    assert STRING_BYTES == 32
    running.publish(frame_at(TS))


def test_unknown_units_registers_and_writes_answer_with_exceptions(running: Running) -> None:
    async def scenario(client: AsyncModbusTcpClient) -> list[Any]:
        return [
            await client.read_holding_registers(0, count=2, device_id=9),
            await client.read_holding_registers(500, count=2, device_id=1),
            await client.read_input_registers(60, count=20, device_id=2),
            await client.write_register(0, 5, device_id=1),
            await client.read_holding_registers(0, count=1, device_id=1),
        ]

    unknown_unit, beyond, straddling, write, still_served = read(
        running.endpoints.modbus_port, scenario
    )
    assert isinstance(unknown_unit, ExceptionResponse)
    assert unknown_unit.exception_code == 10  # gateway path unavailable
    for refused in (beyond, straddling, write):
        assert isinstance(refused, ExceptionResponse)
        assert refused.exception_code == 2  # illegal data address
    assert not still_served.isError()


def test_stop_frees_every_port() -> None:
    served = Running(build_plant(120))
    ports = served.gateways.ports
    assert len(ports) == len(modbus_lines(build_plant(120))) > 2
    served.close()
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_model_section_binds_every_signal_of_every_modbus_machine() -> None:
    plant = build_plant(120)
    endpoints = Endpoints(modbus_port=6000)
    section = model_section(plant, endpoints)
    registry = served_registry(plant, section)
    served = served_by(plant, Served.MODBUS)
    assert set(section.bindings) == {m.index for m in served}
    for k, line in enumerate(modbus_lines(plant)):
        name = connector_name(line)
        assert section.connectors[name]["port"] == 6000 + k
        bound = registry.bindings_for(name)
        assert len(bound) == sum(len(m.kind.signals) for m in line.machines)
        paths = {binding.signal.path for binding in bound.values()}
        for machine in line.machines:
            for signal in machine.kind.signals:
                assert f"{plant.enterprise}/{machine.path}/{signal.name}" in paths


def test_the_omp_connector_reads_what_the_gateways_serve(running: Running) -> None:
    section = model_section(PLANT, running.endpoints)
    line = modbus_lines(PLANT)[1]
    name = connector_name(line)
    section.connectors = {name: {**section.connectors[name], "poll_interval": "100ms"}}
    section.bindings = {m.index: section.bindings[m.index] for m in line.machines}
    registry = served_registry(PLANT, section)
    expected = frame_at(TS)
    with running_host(registry, {Protocol.MODBUS: PLUGIN}) as (_, sink):
        total = sum(len(m.kind.signals) for m in line.machines)
        wait_for(lambda: len(sink.addresses()) == total, 20, "every bound register")
        for machine in line.machines:
            bindings = section.bindings[machine.index][1]
            for i, signal in enumerate(machine.kind.signals):
                value = sink.values(bindings[signal.name])[-1]
                if signal.datatype == "float":
                    assert value == pytest.approx(expected.values[machine.index][i], rel=1e-6)
                else:
                    assert value == expected.values[machine.index][i], signal.name

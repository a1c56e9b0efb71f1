"""Write-back through the host: encode, write, and read the value back by polling."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Iterator

import pytest
from pymodbus.client import AsyncModbusTcpClient

from omp.connectors.base import WriteError
from omp.connectors.host import ConnectorHost
from tests.connectors.modbus.model import EQUIPMENT, PLUGINS, Sig, plc_registry
from tests.connectors.modbus.server import ModbusTestServer, Tables
from tests.connectors.support import RecordingSink, running_host, wait_for

HostAndSink = tuple[ConnectorHost, RecordingSink]

SETPOINTS = {
    "force_sp": Sig("holding:10:float32:cdab", kind="setpoint"),
    "speed_sp": Sig("holding:20:int16", kind="setpoint", datatype="int", scale=0.1),
    "count_sp": Sig("holding:30:uint32", kind="setpoint", datatype="int"),
    "enable": Sig("coil:4", kind="setpoint", datatype="bool"),
    "sensor_sp": Sig("input:5", kind="setpoint"),
    "beyond_sp": Sig("holding:1000", kind="setpoint"),
}


@pytest.fixture
def server() -> Iterator[ModbusTestServer]:
    server = ModbusTestServer({1: Tables()})
    server.start()
    yield server
    server.stop()


@pytest.fixture
def host_and_sink(server: ModbusTestServer) -> Iterator[HostAndSink]:
    options = {"host": "127.0.0.1", "port": server.port, "poll_interval": "30ms"}
    with running_host(plc_registry(options, SETPOINTS), PLUGINS) as (host, sink):
        wait_for(lambda: host.connector_health("plc").is_connected, what="the link")
        yield host, sink


def latest(sink: RecordingSink, address: str) -> float | str | None:
    values = sink.values(address)
    return values[-1] if values else None


def test_write_back_round_trips_through_the_device(
    host_and_sink: HostAndSink, server: ModbusTestServer
) -> None:
    host, sink = host_and_sink
    host.write(f"{EQUIPMENT}/force_sp", -1234.5)
    host.write(f"{EQUIPMENT}/speed_sp", -12.3)  # raw -123
    host.write(f"{EQUIPMENT}/count_sp", 4_000_000_000)
    host.write(f"{EQUIPMENT}/enable", True)
    wait_for(lambda: latest(sink, "holding:10:float32:cdab") == -1234.5, what="float back")
    wait_for(lambda: latest(sink, "holding:20:int16") == -123.0, what="int16 back (raw)")
    wait_for(lambda: latest(sink, "holding:30:uint32") == 4_000_000_000.0, what="uint32 back")
    wait_for(lambda: latest(sink, "coil:4") == 1.0, what="coil back")
    writes = [s for s in server.seen(function_code=16) if s.address == 10]
    assert writes
    assert writes[0].count == 2
    # The float went out word-swapped: low word first, as encoded independently here.
    high, low = struct.unpack(">HH", struct.pack(">f", -1234.5))
    assert server_registers(server, 10, 2) == [low, high]


def server_registers(server: ModbusTestServer, address: int, count: int) -> list[int]:
    """Registers as the server holds them, read by a plain pymodbus client."""

    async def read() -> list[int]:
        client = AsyncModbusTcpClient("127.0.0.1", port=server.port, reconnect_delay=0)
        await client.connect()
        try:
            response = await client.read_holding_registers(address, count=count, device_id=1)
            return list(response.registers)
        finally:
            client.close()

    return asyncio.run(read())


def test_read_only_table_refused_naming_the_address(
    host_and_sink: HostAndSink,
) -> None:
    host, _ = host_and_sink
    with pytest.raises(WriteError, match=r"'input:5' is a read-only input"):
        host.write(f"{EQUIPMENT}/sensor_sp", 1.0)


def test_device_exception_refused_naming_the_code(
    host_and_sink: HostAndSink,
) -> None:
    host, _ = host_and_sink
    with pytest.raises(WriteError, match=r"exception 2 \(illegal data address\)"):
        host.write(f"{EQUIPMENT}/beyond_sp", 1.0)


def test_value_outside_the_register_type_is_refused(
    host_and_sink: HostAndSink,
) -> None:
    host, _ = host_and_sink
    with pytest.raises(WriteError, match=r"outside int16"):
        host.write(f"{EQUIPMENT}/speed_sp", 5000.0)  # raw 50000

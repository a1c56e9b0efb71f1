"""The simulator's OPC UA server, checked with an independent asyncua client and the omp
OPC UA connector: Machinery-like layout, values, datatypes, source timestamps, bindings."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from asyncua import Client, ua

from omp.connectors.opcua import PLUGIN
from omp.model import Registry
from omp.model.kinds import Protocol
from omp.sim.catalog import STATE_LABELS, MachineKind
from omp.sim.frame import Frame, Value
from omp.sim.plant import MachineSpec, Plant, Served, build_plant
from omp.sim.servers.base import Endpoints, ServedSection, served_by
from omp.sim.servers.opcua import OpcUaServer, model_section
from omp.sim.servers.opcua_space import folder_name
from tests.connectors.support import free_port, registry_of, running_host, wait_for
from tests.sim.servers import OnLoop

TS = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
PLANT = build_plant(26)
MACHINES = served_by(PLANT, Served.OPCUA)


def frame_at(ts: int, step: int = 0, plant: Plant = PLANT) -> Frame:
    """A frame whose values differ per machine and signal (and per ``step``)."""
    rows: list[list[Value]] = []
    for machine in plant.machines:
        row: list[Value] = []
        for i, signal in enumerate(machine.kind.signals):
            if signal.name == "state":
                row.append((machine.index + step) % 7)
            elif signal.datatype == "int":
                row.append(1000 * machine.index + i + step)
            elif signal.datatype == "string":
                row.append(f"{signal.name}-{machine.index}-{step}")
            else:
                row.append(machine.index + i / 8 + step * 0.5)
        rows.append(row)
    return Frame(ts=ts, values=rows)


class Running(OnLoop):
    """A started ``OpcUaServer`` on its own loop in a thread (as the simulator would run it)."""

    def __init__(self, plant: Plant = PLANT) -> None:
        self.endpoints = Endpoints(opcua_port=free_port())
        self.server = OpcUaServer(plant, self.endpoints)
        super().__init__(self.server)

    def publish(self, frame: Frame) -> None:
        async def publish_and_settle() -> None:
            self.server.publish(frame)
            while self.server._writer is not None and not self.server._writer.done():
                await asyncio.sleep(0.005)

        self.call(publish_and_settle())


@pytest.fixture(scope="module")
def running() -> Iterator[Running]:
    served = Running()
    served.publish(frame_at(TS))
    yield served
    served.close()


def client_run(running: Running, scenario: Any) -> Any:
    async def main() -> Any:
        async with Client(running.server.url, timeout=10) as client:
            return await scenario(client)

    return asyncio.run(main())


def test_machines_are_laid_out_like_the_machinery_model(running: Running) -> None:
    async def scenario(client: Client) -> dict[str, Any]:
        machines = await client.nodes.objects.get_child(["2:Machines"])
        names = [(await n.read_browse_name()).Name for n in await machines.get_children()]
        machine = MACHINES[3]
        root = await machines.get_child([f"2:{folder_name(machine)}"])
        parts = {(await n.read_browse_name()).Name for n in await root.get_children()}
        ident = await root.get_child(["2:Identification"])
        identification = {
            (await n.read_browse_name()).Name: await n.read_value()
            for n in await ident.get_children()
        }
        current = await root.get_child(["2:MachineryItemState", "2:CurrentState"])
        return {
            "names": names,
            "parts": parts,
            "identification": identification,
            "current": await current.read_value(),
        }

    seen = client_run(running, scenario)
    machine = MACHINES[3]
    assert seen["names"] == [folder_name(m) for m in MACHINES]
    assert len(set(seen["names"])) == len(MACHINES) == 10
    assert seen["parts"] == {"Identification", "MachineryItemState", "Monitoring", "Production"}
    ident = seen["identification"]
    assert ident["Manufacturer"].Text == machine.kind.vendor
    assert ident["Model"].Text == machine.kind.model
    assert ident["SerialNumber"] == machine.serial
    assert ident["ProductInstanceUri"].endswith(machine.serial)
    assert 2000 < ident["YearOfConstruction"] < 2030
    assert seen["current"].Text == STATE_LABELS[(machine.index + 0) % 7]


def test_values_types_units_and_source_timestamps_match_the_frame(running: Running) -> None:
    machine = MACHINES[5]
    expected = frame_at(TS).values[machine.index]

    async def scenario(client: Client) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for signal in machine.kind.signals:
            node = client.get_node(f"ns=2;s={folder_name(machine)}.{signal.name}")
            value = await node.read_data_value()
            datatype = await node.read_data_type()
            unit = range_ = None
            if signal.unit is not None:
                unit = await (await node.get_child(["0:EngineeringUnits"])).read_value()
            if signal.kind == "measurement":
                range_ = await (await node.get_child(["0:EURange"])).read_value()
            out[signal.name] = (value, datatype, unit, range_)
        return out

    seen = client_run(running, scenario)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    for i, signal in enumerate(machine.kind.signals):
        value, _, unit, range_ = seen[signal.name]
        assert value.Value.Value == expected[i], signal.name
        assert value.SourceTimestamp == when, signal.name
        if signal.unit is not None:
            assert unit.DisplayName.Text == signal.unit
        if range_ is not None:
            assert range_.Low < signal.nominal < range_.High
    assert seen["good_count"][1] == ua.NodeId(ua.ObjectIds.UInt32)
    assert seen["scrap_count"][1] == ua.NodeId(ua.ObjectIds.UInt32)
    assert seen["state"][1] == ua.NodeId(ua.ObjectIds.Int32)
    assert seen["power"][1] == ua.NodeId(ua.ObjectIds.Double)
    assert seen["current_order"][1] == ua.NodeId(ua.ObjectIds.String)
    assert seen["power"][2].UnitId == int.from_bytes(b"KWT", "big")


def test_only_changed_values_are_written_and_subscribers_see_them(running: Running) -> None:
    machine = MACHINES[0]
    first = frame_at(TS + 1_000_000, step=1)
    second = frame_at(TS + 2_000_000, step=1)
    second.values[machine.index][5] = -1.25  # only the power of one machine changes
    temp = f"ns=2;s={folder_name(machine)}.power"
    order = f"ns=2;s={folder_name(machine)}.current_order"

    async def scenario(client: Client) -> tuple[list[float], Any, Any]:
        changes: list[float] = []

        class Handler:
            def datachange_notification(self, node: Any, value: Any, data: Any) -> None:
                changes.append(value)

        subscription = await client.create_subscription(20, Handler())
        await subscription.subscribe_data_change(client.get_node(temp))
        await asyncio.to_thread(running.publish, first)
        before = running.server.values_written
        await asyncio.to_thread(running.publish, second)
        written = running.server.values_written - before
        for _ in range(200):
            if -1.25 in changes:
                break
            await asyncio.sleep(0.02)
        await subscription.delete()
        return (
            [written, *changes],
            await client.get_node(temp).read_data_value(),
            await client.get_node(order).read_data_value(),
        )

    (written, *changes), power, current_order = client_run(running, scenario)
    assert written == 1
    assert changes[-1] == -1.25
    assert power.SourceTimestamp == datetime(2026, 1, 1, 0, 0, 2, tzinfo=UTC)
    assert current_order.SourceTimestamp == datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC)


def test_stop_frees_the_port() -> None:
    plant = build_plant(26)
    served = Running(plant)
    port = served.endpoints.opcua_port
    served.close()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


# -- the model section ------------------------------------------------------------------------


def type_of(kind: MachineKind) -> dict[str, Any]:
    signals: dict[str, Any] = {}
    for signal in kind.signals:
        entry: dict[str, Any] = {"datatype": signal.datatype, "kind": str(signal.kind)}
        if signal.unit is not None:
            entry["unit"] = signal.unit
        if signal.kind == "state":
            entry["states"] = dict(STATE_LABELS)
        signals[signal.name] = entry
    return {"signals": signals}


def served_model(plant: Plant, section: ServedSection) -> str:
    """A factory model of the machines ``section`` binds, as the demo model would bind them."""
    sites: dict[str, Any] = {}
    kinds: dict[str, MachineKind] = {}
    for index, (connector, bindings) in section.bindings.items():
        machine: MachineSpec = plant.machines[index]
        kinds[machine.kind.name] = machine.kind
        site = sites.setdefault(machine.site, {"timezone": "UTC", "areas": {}})
        line = site["areas"].setdefault(machine.area, {"lines": {}})["lines"]
        cells = line.setdefault(machine.line, {"cells": {}})["cells"]
        cells[machine.cell] = {
            "equipment": {
                machine.name: {
                    "type": machine.kind.name,
                    "connector": connector,
                    "bindings": dict(bindings),
                }
            }
        }
    model = {
        "enterprise": plant.enterprise,
        "connectors": section.connectors,
        "equipment_types": {name: type_of(kind) for name, kind in kinds.items()},
        "sites": sites,
    }
    return yaml.safe_dump(model)


def served_registry(plant: Plant, section: ServedSection) -> Registry:
    return registry_of(served_model(plant, section))


def test_model_section_binds_every_signal_of_every_opcua_machine() -> None:
    plant = build_plant(120)
    section = model_section(plant, Endpoints(opcua_port=4841))
    registry = served_registry(plant, section)
    served = served_by(plant, Served.OPCUA)
    assert set(section.bindings) == {m.index for m in served}
    bound = registry.bindings_for("sim_opcua")
    assert len(bound) == sum(len(m.kind.signals) for m in served)
    paths = {binding.signal.path for binding in bound.values()}
    for machine in served:
        for signal in machine.kind.signals:
            assert f"{plant.enterprise}/{machine.path}/{signal.name}" in paths
    assert section.connectors["sim_opcua"]["endpoint"] == "opc.tcp://127.0.0.1:4841/omp/sim"


def test_the_omp_connector_reads_what_the_server_serves(running: Running) -> None:
    section = model_section(PLANT, running.endpoints)
    section.connectors["sim_opcua"]["publishing_interval"] = "50ms"
    machine = MACHINES[7]
    section.bindings = {machine.index: section.bindings[machine.index]}
    registry = served_registry(PLANT, section)
    bindings = section.bindings[machine.index][1]
    latest = frame_at(TS + 5_000_000, step=4)
    running.publish(latest)
    expected = latest.values[machine.index]
    with running_host(registry, {Protocol.OPCUA: PLUGIN}) as (_, sink):
        wait_for(lambda: len(sink.addresses()) == len(bindings), 20, "every bound node")
        for i, signal in enumerate(machine.kind.signals):
            values = sink.values(bindings[signal.name])
            assert values[-1] == expected[i], signal.name
        rows = [row for row in sink.rows if row.address == bindings["state"]]
        assert rows[-1].ts == TS + 5_000_000

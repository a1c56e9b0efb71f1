"""demo_model: the simulated plant as a factory model the platform loads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from omp.model import compile_model, parse_model
from omp.sim.catalog import KINDS
from omp.sim.model import demo_model
from omp.sim.plant import build_plant
from omp.sim.servers.base import ServedSection


class Ids:
    def ensure_ids(self, paths: Sequence[str]) -> Mapping[str, int]:
        return {p: i + 1 for i, p in enumerate(sorted(paths))}


def test_every_machine_and_signal_is_in_the_model() -> None:
    plant = build_plant(26)
    registry = compile_model(parse_model(demo_model(plant, [])), ids=Ids())
    assert len(registry) == sum(len(m.kind.signals) for m in plant.machines)
    for machine in plant.machines:
        equipment = registry.equipment_at(f"acme/{machine.path}")
        assert equipment.type == machine.kind.name
    state = registry.signal(f"acme/{plant.machines[0].path}/state")
    assert state.states[6] == "down"
    assert registry.signal(f"acme/{plant.machines[0].path}/oil_temp").unit == "Cel"


def test_kpi_parameters_come_from_the_catalog() -> None:
    model = parse_model(demo_model(build_plant(26), []))
    press = model.equipment_types["press"]
    assert press.kpi.ideal_cycle_time == int(KINDS["press"].ideal_cycle_s * 1_000_000)
    assert press.kpi.producing_states == [1]


def test_sections_bind_machines_to_their_connectors() -> None:
    plant = build_plant(26)
    press = plant.machines[0]
    section = ServedSection(
        connectors={"press_gateway": {"protocol": "modbus", "host": "127.0.0.1", "port": 5020}},
        bindings={press.index: ("press_gateway", {"state": "1:holding:0:uint16"})},
    )
    registry = compile_model(parse_model(demo_model(plant, [section])), ids=Ids())
    binding = registry.binding("press_gateway", "1:holding:0:uint16")
    assert binding.signal.path == f"acme/{press.path}/state"


def test_two_sections_may_not_define_the_same_connector() -> None:
    section = ServedSection(connectors={"x": {"protocol": "opcua", "endpoint": "opc.tcp://h:1"}})
    with pytest.raises(ValueError, match="'x'"):
        demo_model(build_plant(26), [section, section])


def test_the_text_is_deterministic() -> None:
    assert demo_model(build_plant(60), []) == demo_model(build_plant(60), [])

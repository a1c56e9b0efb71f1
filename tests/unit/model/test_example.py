"""examples/factory.yaml: a realistic plant that loads clean and shows every feature."""

from __future__ import annotations

import pytest

from omp.model import Kind, Protocol, Registry, check_model, compile_model, load_model
from tests.unit.model.conftest import EXAMPLES, DictIds

FACTORY = EXAMPLES / "factory.yaml"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return compile_model(load_model(FACTORY), ids=DictIds())


def test_example_has_no_problems() -> None:
    assert check_model(FACTORY) == []


def test_example_is_a_plant_of_two_lines_and_a_dozen_machines(registry: Registry) -> None:
    model = registry.model
    lines = [
        line for site in model.sites.values() for area in site.areas.values() for line in area.lines
    ]
    assert len(lines) == 2
    assert len(registry.equipment) == 12
    assert len({e.type for e in registry.equipment}) == 4
    assert {c.protocol for c in model.connectors.values()} == set(Protocol)


def test_example_uses_every_signal_kind(registry: Registry) -> None:
    assert {s.kind for s in registry} == set(Kind)


def test_every_signal_of_the_example_is_bound(registry: Registry) -> None:
    bound = {b.signal.path for c in registry.connectors for b in registry.bindings_for(c).values()}
    assert bound == {s.path for s in registry}


def test_example_converts_source_units_on_ingest(registry: Registry) -> None:
    oil = registry.binding("modbus_press_02", "input:30001:int16")
    assert oil.signal.unit == "Cel"
    assert oil.conversion.apply(2120.0) == pytest.approx(100.0)  # tenths of a degree F
    coolant = registry.binding("opcua_machining", "ns=2;s=Mill03.Coolant.Pressure")
    assert coolant.conversion.apply(1.0) == pytest.approx(100.0)  # bar -> kPa


def test_equipment_overrides_kpi_and_extends_attributes(registry: Registry) -> None:
    mill_04 = registry.equipment_at("acme/munich/machining/line_1/milling/mill_04")
    mill_01 = registry.equipment_at("acme/munich/machining/line_1/milling/mill_01")
    assert mill_04.kpi.ideal_cycle_time == 210_000_000
    assert mill_01.kpi.ideal_cycle_time == 240_000_000
    assert mill_04.kpi.good_count == "good_count", "fields not overridden come from the type"
    assert mill_01.attributes["vendor"] == "DMG Mori"
    assert mill_01.attributes["serial"] == "DMU65-4712"

"""The compiled Registry: ids, lookups, globs, bindings with conversions, version."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import pytest

from omp.core.errors import ConfigError, UnknownSignalError
from omp.model import (
    Datatype,
    Kind,
    ModelInvalid,
    Registry,
    compile_model,
    model_version,
    parse_model,
)
from omp.model.schema import FactoryModel
from tests.unit.model.conftest import MINIMAL, DictIds

EQ = "acme/munich/body/line_1/cell_a/mill_01"


def compiled(text: str = MINIMAL, ids: DictIds | None = None) -> Registry:
    return compile_model(parse_model(text), ids=ids or DictIds())


def test_signals_carry_path_type_and_model_facts() -> None:
    registry = compiled()
    temp = registry.signal(f"{EQ}/temp")
    assert (temp.name, temp.datatype, temp.kind, temp.unit) == (
        "temp",
        Datatype.FLOAT,
        Kind.MEASUREMENT,
        "Cel",
    )
    assert temp.equipment_path == EQ
    assert temp.equipment_type == "mill"
    assert temp.equipment.timezone == "Europe/Berlin"
    assert temp.equipment.kpi.ideal_cycle_time == 42_000_000
    state = registry.signal(f"{EQ}/state")
    assert state.states == {0: "idle", 1: "producing", 2: "down"}
    assert state.unit is None
    assert registry.signal(f"{EQ}/good").unit == "1"
    assert registry.signal(f"{EQ}/order").is_text
    assert registry.signal_by_id(temp.id) is temp


def test_unknown_path_and_id_are_named() -> None:
    registry = compiled()
    with pytest.raises(UnknownSignalError, match="no signal 'acme/x' in the model"):
        registry.signal("acme/x")
    with pytest.raises(UnknownSignalError, match="id 999"):
        registry.signal_by_id(999)


def test_ids_stay_stable_when_signals_are_added_and_removed() -> None:
    ids = DictIds()
    before = compiled(ids=ids).ids
    edited = MINIMAL.replace("      pressure: {unit: kPa}\n", "      speed: {unit: /min}\n")
    edited = edited.replace(
        '                      pressure: {address: "ns=2;s=Mill01.Pressure", unit: bar}\n', ""
    )
    after = compiled(edited, ids=ids).ids
    kept = set(before) & set(after)
    assert kept == set(before) - {f"{EQ}/pressure"}
    assert all(before[path] == after[path] for path in kept)
    assert after[f"{EQ}/speed"] not in before.values(), "a new signal never reuses an id"


def test_version_ignores_comments_key_order_and_spelling() -> None:
    base = model_version(parse_model(MINIMAL))
    top, sites = MINIMAL.split("sites:\n")
    reordered = (
        "# a comment\nsites:\n" + sites + top.replace("protocol: opcua", "protocol: opcua  # x")
    )
    assert model_version(parse_model(reordered)) == base
    respelled = MINIMAL.replace("ideal_cycle_time: 42s", "ideal_cycle_time: 42000ms")
    assert model_version(parse_model(respelled)) == base
    assert len(base) == 12
    assert int(base, 16) >= 0


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("temp: {unit: Cel}", "temp: {unit: K}"),
        ("ideal_cycle_time: 42s", "ideal_cycle_time: 43s"),
        ("2: down", "2: stopped"),
        ('"ns=2;s=Mill01.Good"', '"ns=2;s=Mill01.GoodParts"'),
    ],
)
def test_version_changes_with_content(old: str, new: str) -> None:
    assert model_version(parse_model(MINIMAL.replace(old, new))) != model_version(
        parse_model(MINIMAL)
    )


def test_registry_version_is_the_model_version() -> None:
    assert compiled().version == model_version(parse_model(MINIMAL))


def test_binding_resolution_converts_source_units() -> None:
    registry = compiled()
    table = registry.bindings_for("plc")
    assert type(table) is dict
    temp = table["ns=2;s=Mill01.Temp"]
    assert temp.signal.path == f"{EQ}/temp"
    assert temp.source_unit == "[degF]"
    assert temp.conversion.apply(212.0) == pytest.approx(100.0)
    pressure = registry.binding("plc", "ns=2;s=Mill01.Pressure")
    assert pressure.conversion.apply(1.0) == pytest.approx(100.0)
    assert registry.binding("plc", "ns=2;s=Mill01.State").conversion.is_identity


def test_a_unit_reported_at_run_time_replaces_the_bindings() -> None:
    pressure = compiled().binding("plc", "ns=2;s=Mill01.Pressure")
    assert pressure.conversion_from("[psi]").apply(1.0) == pytest.approx(6.894757, rel=1e-6)
    assert pressure.conversion_from("bar") == pressure.conversion
    assert pressure.conversion_from(None) == pressure.conversion
    with pytest.raises(ConfigError, match="'Cel' cannot be converted to 'kPa'"):
        pressure.conversion_from("Cel")


def test_scale_and_offset_apply_before_the_unit_conversion() -> None:
    text = MINIMAL.replace('unit: "[degF]"}', 'unit: "[degF]", scale: 0.1, offset: 2}')
    temp = compiled(text).binding("plc", "ns=2;s=Mill01.Temp")
    assert temp.conversion.apply(2100.0) == pytest.approx(100.0)  # 210 + 2 = 212 degF


def test_unbound_address_is_named() -> None:
    with pytest.raises(UnknownSignalError, match="'ns=9;s=X' on connector 'plc'"):
        compiled().binding("plc", "ns=9;s=X")
    assert compiled().bindings_for("nothing") == {}


def test_equipment_listing() -> None:
    registry = compiled()
    (node,) = registry.equipment
    assert node.path == EQ
    assert registry.equipment_at(EQ) is node
    assert [s.name for s in registry.signals_of(EQ)] == sorted(node.signals)
    with pytest.raises(UnknownSignalError, match="no equipment"):
        registry.signals_of("acme/munich")


class BrokenIds:
    def __init__(self, answer: Mapping[str, int]) -> None:
        self.answer = answer

    def ensure_ids(self, paths: Sequence[str]) -> Mapping[str, int]:
        return self.answer


def test_an_id_source_that_misses_a_path_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="no usable id for 'acme/"):
        compile_model(parse_model(MINIMAL), ids=BrokenIds({}))


def test_an_id_source_that_repeats_an_id_is_a_clear_error() -> None:
    class Same:
        def ensure_ids(self, paths: Sequence[str]) -> Mapping[str, int]:
            return dict.fromkeys(paths, 7)

    with pytest.raises(ConfigError, match="gave id 7 to both"):
        compile_model(parse_model(MINIMAL), ids=Same())


def test_compile_rejects_a_model_built_in_code_that_breaks_cross_rules() -> None:
    data = parse_model(MINIMAL).model_dump()
    data["sites"]["munich"]["areas"]["body"]["lines"]["line_1"]["cells"]["cell_a"]["equipment"][
        "mill_01"
    ]["type"] = "press"
    with pytest.raises(ModelInvalid, match="unknown equipment type 'press'"):
        compile_model(FactoryModel.model_validate(data), ids=DictIds())


def test_an_equipment_path_hints_at_its_signals() -> None:
    with pytest.raises(UnknownSignalError, match=re.escape(f"it is equipment, '{EQ}/*' selects")):
        compiled().signal(EQ)


def test_a_near_miss_path_gets_a_suggestion() -> None:
    with pytest.raises(UnknownSignalError, match=re.escape(f"(did you mean '{EQ}/temp'?)")):
        compiled().signal(f"{EQ}/tmp")


def test_signals_and_equipment_can_be_set_members() -> None:
    registry = compiled()
    assert len(set(registry.signals)) == len(registry)
    assert len({s.equipment for s in registry}) == 1

"""Rules beyond the one-line cases: connectors, scale, state codes, the documented example."""

from __future__ import annotations

import re

import pytest

from omp.model import FactoryModel, Problem, compile_model, parse_model
from omp.model.load import validate_source
from omp.model.yamlsource import parse_source
from tests.unit.model.conftest import MINIMAL, REPO, DictIds, line_of


def problems_of(text: str) -> list[Problem]:
    return validate_source(parse_source(text, file="factory.yaml"))[1]


def test_bindings_without_any_connector_are_each_reported() -> None:
    text = MINIMAL.replace("                    connector: plc\n", "")
    problems = problems_of(text)
    assert len(problems) == 5
    assert all("no connector" in p.message for p in problems)
    assert problems[0].line == line_of(text, 'temp: {address: "ns=2;s=Mill01.Temp"')


def test_a_binding_may_name_its_own_connector() -> None:
    text = MINIMAL.replace(
        'good: "ns=2;s=Mill01.Good"',
        'good: {address: "holding:40001:uint32", connector: counters}',
    ).replace("connectors:\n", "connectors:\n  counters: {protocol: modbus, host: 10.0.0.9}\n")
    registry = compile_model(parse_model(text), ids=DictIds())
    assert registry.binding("counters", "holding:40001:uint32").signal.name == "good"


def test_zero_scale_is_rejected() -> None:
    text = MINIMAL.replace("unit: bar}", "unit: bar, scale: 0}")
    (problem,) = problems_of(text)
    assert problem.message == "scale must not be 0"
    assert problem.dotted_path.endswith("bindings.pressure.scale")


def test_scale_on_a_state_binding_is_rejected() -> None:
    text = MINIMAL.replace('state: "ns=2;s=Mill01.State"', 'state: {address: "ns=2;s=S", scale: 2}')
    (problem,) = problems_of(text)
    assert "drop scale and offset" in problem.message


def test_producing_states_must_be_codes_of_the_state_signal() -> None:
    text = MINIMAL.replace(
        "      state: state\n", "      state: state\n      producing_states: [1, 7]\n"
    )
    (problem,) = problems_of(text)
    assert problem.dotted_path == "equipment_types.mill.kpi.producing_states.1"
    assert problem.message == "state 'state' has no code 7"


def test_bool_state_codes_and_unique_labels() -> None:
    text = MINIMAL.replace(
        "{datatype: int, kind: state, states: {0: idle, 1: producing, 2: down}}",
        "{datatype: bool, kind: state, states: {0: idle, 1: idle, 2: down}}",
    )
    messages = sorted(p.message for p in problems_of(text))
    assert messages == [
        "a bool state has codes 0 and 1 only, not 2",
        "label 'idle' is also code 0",
    ]


def test_event_signals_take_codes_and_text_but_no_unit() -> None:
    ok = MINIMAL.replace(
        "order: {datatype: string, kind: text}", "order: {datatype: int, kind: event}"
    )
    assert problems_of(ok) == []
    bad = MINIMAL.replace(
        "order: {datatype: string, kind: text}", "order: {datatype: int, kind: event, unit: s}"
    )
    (problem,) = problems_of(bad)
    assert problem.message == "an event signal of datatype int has no unit"


def test_a_model_round_trips_through_its_dump() -> None:
    model = parse_model(MINIMAL)
    assert FactoryModel.model_validate(model.model_dump()) == model
    assert model.model_dump()["equipment_types"]["mill"]["kpi"]["ideal_cycle_time"] == "42s"


def test_the_example_in_the_documentation_is_valid() -> None:
    doc = (REPO / "docs" / "model.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", doc, re.DOTALL)
    assert block is not None
    model = parse_model(block.group(1), file="docs/model.md")
    assert model.enterprise == "acme"


@pytest.mark.parametrize(
    ("protocol", "address", "ok"),
    [
        ("opcua", "ns=2;s=Mill01.Spindle.Temperature", True),
        ("opcua", "i=2258", True),
        ("opcua", "nsu=http://acme.com/UA/;s=Temp", True),
        ("opcua", "ns=2;g=09087e75-8e5e-499b-954f-f2a9603db28a", True),
        ("opcua", "Mill01.Spindle.Temperature", False),
        ("opcua", "ns=two;s=X", False),
        ("modbus", "holding:40001:float32", True),
        ("modbus", "coil:17", True),
        ("modbus", "40001", False),
        ("modbus", "holdings:1", False),
        ("mqtt", "munich/packaging/filler01/temp", True),
        ("mqtt", "munich/+/temp", False),
        ("mqtt", "munich//temp", False),
        ("sparkplug", "packaging/eol/pal01/Drive/Current", True),
        ("sparkplug", "packaging/eol/pal01", False),
    ],
)
def test_address_shape_per_protocol(protocol: str, address: str, ok: bool) -> None:
    text = MINIMAL.replace("protocol: opcua", f"protocol: {protocol}").replace(
        '"ns=2;s=Mill01.Good"', f'"{address}"'
    )
    problems = [p for p in problems_of(text) if p.dotted_path.endswith("bindings.good.address")]
    if ok:
        assert problems == []
    else:
        (problem,) = problems
        assert problem.message.startswith(f"address {address!r} is not ")
        assert problem.line == line_of(text, f'good: "{address}"')

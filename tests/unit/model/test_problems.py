"""Each kind of mistake is reported with the right line, path and message."""

from __future__ import annotations

from pathlib import Path

import pytest

from omp.model import ModelInvalid, Problem, check_model, load_model, parse_model
from omp.model.load import validate_source
from omp.model.yamlsource import parse_source
from tests.unit.model.conftest import MINIMAL, line_of, write

EQ = "sites.munich.areas.body.lines.line_1.cells.cell_a.equipment.mill_01"


def problems_of(text: str) -> list[Problem]:
    return validate_source(parse_source(text, file="factory.yaml"))[1]


def mutate(old: str, new: str, text: str = MINIMAL) -> str:
    assert text.count(old) == 1, f"{old!r} must occur once"
    return text.replace(old, new)


def test_the_minimal_model_is_valid() -> None:
    assert problems_of(MINIMAL) == []


CASES = [
    pytest.param(
        "temp: {unit: Cel}",
        "temp: {unit: degC}",
        "equipment_types.mill.signals.temp.unit",
        "unknown unit 'degC' (did you mean 'Cel'?)",
        id="unknown-unit",
    ),
    pytest.param(
        "type: mill",
        "type: mil",
        f"{EQ}.type",
        "unknown equipment type 'mil' (did you mean 'mill'?)",
        id="unknown-type",
    ),
    pytest.param(
        "connector: plc",
        "connector: plcc",
        f"{EQ}.connector",
        "unknown connector 'plcc' (did you mean 'plc'?)",
        id="unknown-connector",
    ),
    pytest.param(
        'order: "ns=2;s=Mill01.Order"',
        'order: "ns=2;s=Mill01.Order"\n                      speed: "ns=2;s=Mill01.Speed"',
        f"{EQ}.bindings.speed",
        "type 'mill' has no signal 'speed'",
        id="binding-to-missing-signal",
    ),
    pytest.param(
        'state: "ns=2;s=Mill01.State"',
        'state: "ns=2;s=Mill01.Good"',
        f"{EQ}.bindings.state.address",
        "address 'ns=2;s=Mill01.Good' on connector 'plc' is already bound at line",
        id="duplicate-address",
    ),
    pytest.param(
        'pressure: {address: "ns=2;s=Mill01.Pressure", unit: bar}',
        'pressure: {address: "ns=2;s=Mill01.Pressure", unit: Cel}',
        f"{EQ}.bindings.pressure.unit",
        "unit 'Cel' cannot be converted to 'kPa'",
        id="inconvertible-source-unit",
    ),
    pytest.param(
        "order: {datatype: string, kind: text}",
        "order: {datatype: int, kind: text}",
        "equipment_types.mill.signals.order.datatype",
        "a text signal needs datatype string, not int",
        id="text-needs-string",
    ),
    pytest.param(
        "state: {datatype: int, kind: state,",
        "state: {datatype: float, kind: state,",
        "equipment_types.mill.signals.state.datatype",
        "a state signal needs datatype int or bool, not float",
        id="state-needs-int-or-bool",
    ),
    pytest.param(
        "good: {datatype: int, kind: counter}",
        "good: {datatype: string, kind: counter}",
        "equipment_types.mill.signals.good.datatype",
        "a counter signal needs datatype int or float, not string",
        id="counter-needs-number",
    ),
    pytest.param(
        "temp: {unit: Cel}",
        "temp: {unit: Cel, states: {0: cold}}",
        "equipment_types.mill.signals.temp.states",
        "state labels belong on state signals, not on a measurement signal",
        id="labels-on-non-state",
    ),
    pytest.param(
        "temp: {unit: Cel}",
        "temp: {unti: Cel}",
        "equipment_types.mill.signals.temp.unti",
        "unknown key 'unti' (did you mean 'unit'?)",
        id="typo-in-key",
    ),
    pytest.param(
        "mill_01:",
        "Mill_01:",
        "sites.munich.areas.body.lines.line_1.cells.cell_a.equipment.Mill_01",
        "name 'Mill_01' is not allowed (did you mean 'mill_01'?)",
        id="bad-name",
    ),
    pytest.param(
        "timezone: Europe/Berlin",
        "timezone: Europe/Berln",
        "sites.munich.timezone",
        "unknown time zone 'Europe/Berln' (did you mean 'Europe/Berlin'?)",
        id="bad-timezone",
    ),
    pytest.param(
        "temp: {unit: Cel}",
        "temp: {unit: Cel}\n      temp: {unit: K}",
        "equipment_types.mill.signals.temp",
        "duplicate key 'temp' (first at line",
        id="duplicate-name",
    ),
    pytest.param(
        'order: "ns=2;s=Mill01.Order"',
        'order: {address: "ns=2;s=Mill01.Order", unit: Cel}',
        f"{EQ}.bindings.order.unit",
        "a text signal of datatype string has no unit to convert to",
        id="unit-on-text-binding",
    ),
    pytest.param(
        "good_count: good",
        "good_count: goods",
        "equipment_types.mill.kpi.good_count",
        "no signal 'goods' in this type (did you mean 'good'?)",
        id="kpi-unknown-signal",
    ),
    pytest.param(
        "state: state\n",
        "state: temp\n",
        "equipment_types.mill.kpi.state",
        "signal 'temp' is a measurement, state needs a state",
        id="kpi-wrong-kind",
    ),
    pytest.param(
        "ideal_cycle_time: 42s",
        "ideal_cycle_time: 42",
        "equipment_types.mill.kpi.ideal_cycle_time",
        "duration 42 needs a unit",
        id="duration-without-unit",
    ),
    pytest.param(
        "protocol: opcua",
        "protocol: opc-ua",
        "connectors.plc.protocol",
        "'opc-ua' is not allowed (did you mean 'opcua'?)",
        id="unknown-protocol",
    ),
    pytest.param(
        "connector: plc",
        "connector: plc\n                    kpi: {state: temp}",
        f"{EQ}.kpi.state",
        "signal 'temp' is a measurement, state needs a state",
        id="equipment-kpi-override",
    ),
]


@pytest.mark.parametrize(("old", "new", "path", "message"), CASES)
def test_each_problem_names_line_path_and_what_is_wrong(
    old: str, new: str, path: str, message: str
) -> None:
    text = mutate(old, new)
    problems = problems_of(text)
    assert len(problems) == 1, [str(p) for p in problems]
    (problem,) = problems
    assert problem.file == "factory.yaml"
    assert problem.dotted_path == path
    assert message in problem.message
    marker = new.splitlines()[-1].strip()
    assert problem.line == line_of(text, marker)


def test_missing_key_is_reported_at_its_parent() -> None:
    text = mutate("    timezone: Europe/Berlin\n", "")
    (problem,) = problems_of(text)
    assert problem.dotted_path == "sites.munich"
    assert problem.message == "missing required key 'timezone'"
    assert problem.line == line_of(text, "munich:")


def test_duplicate_address_names_the_first_binding_line() -> None:
    text = mutate('state: "ns=2;s=Mill01.State"', 'state: "ns=2;s=Mill01.Good"')
    (problem,) = problems_of(text)
    first = line_of(text, 'good: "ns=2')
    assert f"at line {first}" in problem.message


def test_root_must_be_a_mapping() -> None:
    (problem,) = problems_of("- a\n- b\n")
    assert problem.line == 1
    assert "mapping" in problem.message


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    text = MINIMAL
    for old, new in [
        ("temp: {unit: Cel}", "temp: {unit: degC}"),
        ("type: mill", "type: mil"),
        ("timezone: Europe/Berlin", "timezone: Mars/Olympus"),
        ("protocol: opcua", "protocol: profibus"),
    ]:
        text = mutate(old, new, text)
    path = write(tmp_path, text)
    problems = check_model(path)
    assert [p.line for p in problems] == sorted(p.line for p in problems)
    assert {p.dotted_path.rsplit(".", 1)[-1] for p in problems} == {
        "unit",
        "type",
        "timezone",
        "protocol",
    }
    with pytest.raises(ModelInvalid) as caught:
        load_model(path)
    assert caught.value.problems == problems
    lines = str(caught.value).splitlines()
    assert lines[0] == "4 problems in the factory model"
    assert lines[1].startswith(f"{path}:{problems[0].line}: connectors.plc.protocol: ")


def test_binding_checks_still_run_when_the_type_is_partly_invalid() -> None:
    text = mutate("temp: {unit: Cel}", "temp: {unit: degC}")
    text = mutate("unit: bar}", "unit: Cel}", text)
    problems = problems_of(text)
    assert [p.dotted_path.rsplit(".", 2)[-2:] for p in problems] == [
        ["temp", "unit"],
        ["pressure", "unit"],
    ]


def test_syntax_error_stops_with_one_problem_on_its_line() -> None:
    text = mutate("type: mill", "type: [mill")
    problems = problems_of(text)
    assert len(problems) == 1
    assert problems[0].message.startswith("YAML syntax error")
    assert problems[0].line >= line_of(text, "type: [mill")


def test_parse_model_raises_model_invalid() -> None:
    with pytest.raises(ModelInvalid) as caught:
        parse_model(mutate("type: mill", "type: mil"), file="inline.yaml")
    assert caught.value.problems[0].file == "inline.yaml"


def test_numeric_names_are_names() -> None:
    text = mutate("          line_1:\n", "          10:\n")
    model = parse_model(text)
    assert "10" in model.sites["munich"].areas["body"].lines


@pytest.mark.parametrize("bad", [".nan", ".inf", "1e400"])
def test_non_finite_scale_is_refused(bad: str) -> None:
    text = mutate(
        'good: "ns=2;s=Mill01.Good"', f'good: {{address: "ns=2;s=Mill01.Good", scale: {bad}}}'
    )
    problems = problems_of(text)
    assert [p.line for p in problems] == [line_of(text, "Mill01.Good")]
    assert problems[0].dotted_path.endswith("bindings.good.scale")

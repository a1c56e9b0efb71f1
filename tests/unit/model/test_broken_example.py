"""examples/broken.yaml shows many mistakes; `omp check` must list every one, on its line."""

from __future__ import annotations

from omp.model import check_model
from tests.unit.model.conftest import EXAMPLES, line_of

BROKEN = EXAMPLES / "broken.yaml"
EQ = "sites.munich.areas.body_shop.lines.Line_1.cells.cell_a.equipment"

EXPECTED = [
    ("protocol: profinet", "connectors.scale_gateway.protocol", "'profinet' is not allowed"),
    ("unit: degC", "equipment_types.mill.signals.spindle_temp.unit", "did you mean 'Cel'?"),
    (
        "order: {datatype: int",
        "equipment_types.mill.signals.order.datatype",
        "needs datatype string",
    ),
    ("state: {datatype: float", "equipment_types.mill.signals.state.datatype", "int or bool"),
    ("mode: {", "equipment_types.mill.signals.mode.states", "state labels belong on state"),
    ("spindle_temp: {unit: Cel}", "equipment_types.mill.signals.spindle_temp", "duplicate key"),
    ("ideal_cycle_time: 6", "equipment_types.press.kpi.ideal_cycle_time", "needs a unit"),
    ("knd: measurement", "equipment_types.press.signals.force.knd", "did you mean 'kind'?"),
    ("Europe/Munich", "sites.munich.timezone", "unknown time zone"),
    ("Line_1:", "sites.munich.areas.body_shop.lines.Line_1", "did you mean 'line_1'?"),
    ("not a pressure", f"{EQ}.mill_01.bindings.coolant_pressure.unit", "cannot be converted"),
    ("feed_rate:", f"{EQ}.mill_01.bindings.feed_rate", "has no signal 'feed_rate'"),
    ("type: mil ", f"{EQ}.mill_02.type", "unknown equipment type 'mil'"),
    (
        "connector: opcua",
        f"{EQ}.mill_03.connector",
        "unknown connector 'opcua'; known: plc, scale_gateway",
    ),
    (
        "already bound by mill_01",
        f"{EQ}.mill_04.bindings.coolant_pressure.address",
        "already bound",
    ),
]


def test_every_mistake_is_reported_once_on_its_line() -> None:
    text = BROKEN.read_text(encoding="utf-8")
    problems = check_model(BROKEN)
    got = [(p.line, p.dotted_path) for p in problems]
    expected = [(line_of(text, marker), path) for marker, path, _ in EXPECTED]
    assert got == expected
    for problem, (_, _, fragment) in zip(problems, EXPECTED, strict=True):
        assert fragment in problem.message
        assert problem.file == str(BROKEN)


def test_each_problem_prints_as_one_line() -> None:
    for problem in check_model(BROKEN):
        text = str(problem)
        assert "\n" not in text
        assert text.startswith(f"{BROKEN}:{problem.line}: {problem.dotted_path}: ")

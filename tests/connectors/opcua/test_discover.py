"""``omp discover opcua``: browse a real server, and the snippet loads into a model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from asyncua import ua
from typer.testing import CliRunner

from omp.cli.discover import app
from omp.connectors.opcua.units import to_ucum, unece_code
from omp.model import compile_model, parse_model
from omp.model.kinds import Datatype, Kind
from tests.connectors.opcua.server import OpcUaTestServer, Var
from tests.connectors.support import free_port, registry_of

VARIABLES = {
    "Mill01.SpindleTemperature": Var(40.0, unit=("CEL", "°C")),
    "Mill01.SpindleSpeed": Var(1200, ua.VariantType.Int32, unit=("RPM", "r/min")),
    "Mill01.CoolantPressure": Var(3.5, unit=("BAR", "bar")),
    "Mill01.Running": Var(True, ua.VariantType.Boolean),
    "Mill01.Program": Var("O1000", ua.VariantType.String),
    "Mill01.Profile": Var([1.0, 2.0]),
    "Mill02.SpindleTemperature": Var(41.0, unit=("CEL", "°C")),
    "Mill02.SpindleSpeed": Var(1300, ua.VariantType.Int32, unit=("RPM", "r/min")),
    "Mill02.CoolantPressure": Var(3.4, unit=("BAR", "bar")),
    "Mill02.Running": Var(False, ua.VariantType.Boolean),
    "Mill02.Program": Var("O2000", ua.VariantType.String),
    "Mill02.Profile": Var([1.0]),
    "Press01.Force": Var(800.0, unit=("B47", "kN")),
    "Press01.Load": Var(55.0, unit=("P1", "%")),
    "Press01.Strangeness": Var(1.0, unit=("ZZZ", "furlong per fortnight")),
    "Press01.StartedAt": Var(ua.DateTime(2026, 1, 1), ua.VariantType.DateTime),
}


@pytest.fixture(scope="module")
def plant() -> OpcUaTestServer:
    server = OpcUaTestServer(VARIABLES)
    server.start()
    yield server  # type: ignore[misc]
    server.close()


def _discover(url: str, tmp_path: Path, *extra: str) -> str:
    out = tmp_path / "snippet.yaml"
    result = CliRunner().invoke(app, ["opcua", url, "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return out.read_text()


def _place(snippet: str) -> str:
    """The snippet merged into a minimal model, equipment under one cell."""
    part = yaml.safe_load(snippet)
    model = {
        "format": 1,
        "enterprise": "acme",
        "connectors": part["connectors"],
        "equipment_types": part["equipment_types"],
        "sites": {
            "munich": {
                "timezone": "Europe/Berlin",
                "areas": {
                    "a": {"lines": {"l": {"cells": {"c": {"equipment": part["equipment"]}}}}}
                },
            }
        },
    }
    return yaml.safe_dump(model, sort_keys=False, allow_unicode=True)


def test_discovered_snippet_loads_and_binds_the_right_nodes(
    plant: OpcUaTestServer, tmp_path: Path
) -> None:
    snippet = _discover(plant.url, tmp_path, "--connector", "cell_ctrl")
    registry = registry_of(_place(snippet))
    bindings = registry.bindings_for("cell_ctrl")
    by_signal = {b.signal.path: a for a, b in bindings.items()}
    assert (
        by_signal["acme/munich/a/l/c/mill01/spindle_temperature"]
        == "ns=2;s=Mill01.SpindleTemperature"
    )
    assert by_signal["acme/munich/a/l/c/mill02/spindle_speed"] == "ns=2;s=Mill02.SpindleSpeed"
    assert by_signal["acme/munich/a/l/c/press01/force"] == "ns=2;s=Press01.Force"
    assert len(bindings) == 5 + 5 + 3
    model = parse_model(_place(snippet))
    # Both mills share one type, inferred from their identical signals; the press has its own.
    assert model.sites["munich"].areas["a"].lines["l"].cells["c"].equipment["mill02"].type == "mill"
    mill = model.equipment_types["mill"].signals
    assert mill["spindle_temperature"].unit == "Cel"
    assert mill["spindle_speed"].unit == "/min"
    assert mill["spindle_speed"].datatype is Datatype.INT
    assert mill["coolant_pressure"].unit == "bar"
    assert mill["running"].kind is Kind.STATE
    assert mill["program"].kind is Kind.TEXT
    assert "profile" not in mill
    press = model.equipment_types["press"].signals
    assert press["force"].unit == "kN"
    assert press["load"].unit == "%"
    assert press["strangeness"].unit is None
    assert "started_at" not in press
    assert "# unit furlong per fortnight (UNECE ZZZ) has no UCUM mapping" in snippet
    assert "# left out profile (ns=2;s=Mill01.Profile): an array" in snippet
    assert "# left out started_at (ns=2;s=Press01.StartedAt): datatype DateTime" in snippet
    assert compile_model is not None


def test_root_and_depth_limit_the_browse(plant: OpcUaTestServer, tmp_path: Path) -> None:
    snippet = _discover(
        plant.url, tmp_path, "--root", "path=/Objects/2:Machines/2:Press01", "--depth", "1"
    )
    part = yaml.safe_load(snippet)
    assert list(part["equipment"]) == ["press01"]
    shallow = yaml.safe_load(_discover(plant.url, tmp_path, "--depth", "1"))
    assert shallow["equipment"] in ({}, None)  # Objects -> Machines is one level; machines are two


def test_unreachable_url_is_one_clear_line_and_a_failure() -> None:
    """Run as a real process, so library log lines would show too."""
    url = f"opc.tcp://127.0.0.1:{free_port()}/nothing"
    script = "import sys; from omp.cli.discover import app; app(sys.argv[1:])"
    done = subprocess.run(
        [sys.executable, "-c", script, "opcua", url], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert done.stdout == ""
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == [f"error: OPC UA server {url}: connection refused (nothing listening)"]


@pytest.mark.parametrize(
    ("code", "display", "ucum"),
    [
        ("CEL", None, "Cel"),
        (None, "degree Celsius", "Cel"),
        ("BAR", "bar", "bar"),
        ("KPA", None, "kPa"),
        (None, "rpm", "/min"),
        (None, "min-1", "/min"),
        ("MMT", None, "mm"),
        ("KWT", None, "kW"),
        ("AMP", None, "A"),
        ("VLT", None, "V"),
        ("HTZ", None, "Hz"),
        ("P1", "percent", "%"),
        ("ZZZ", "furlong", None),
    ],
)
def test_engineering_units_map_to_ucum(
    code: str | None, display: str | None, ucum: str | None
) -> None:
    assert to_ucum(code, display) == ucum


def test_unece_code_unpacks_unit_id() -> None:
    assert unece_code(0x43454C) == "CEL"
    assert unece_code(0x5031) == "P1"
    assert unece_code(-1) is None

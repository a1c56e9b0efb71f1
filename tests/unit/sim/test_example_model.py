"""examples/demo.yaml is what the simulator generates for its default endpoints."""

from __future__ import annotations

from pathlib import Path

from omp.model import load_model
from omp.runtime.connectors import check_options
from omp.runtime.demo import demo_sections, plan_demo
from omp.sim.model import demo_model

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "demo.yaml"


def test_the_committed_example_is_the_generated_model() -> None:
    plan = plan_demo(
        machines=26, seed=1, opcua_port=4840, modbus_port=5020, mqtt_url="mqtt://127.0.0.1:1883"
    )
    generated = demo_model(plan.plant, demo_sections(plan.plant, plan.endpoints))
    assert EXAMPLE.read_text() == generated, (
        "examples/demo.yaml is stale: run `omp sim --write-model examples/demo.yaml --model-only`"
    )


def test_the_example_binds_every_signal_through_typed_connector_options() -> None:
    model = load_model(EXAMPLE, check_options=check_options)
    protocols = sorted({c.protocol for c in model.connectors.values()})
    assert protocols == ["modbus", "mqtt", "opcua", "sparkplug"]

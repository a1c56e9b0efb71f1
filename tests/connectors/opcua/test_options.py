"""Options and addresses of the OPC UA connector: parsed once, errors name the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from omp.connectors.opcua.addresses import parse_address
from omp.connectors.opcua.options import Deadband, OpcUaOptions
from omp.core.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "factory.yaml"


def test_the_example_models_opcua_options_are_valid() -> None:
    connectors = yaml.safe_load(EXAMPLE.read_text())["connectors"]
    for name, connector in connectors.items():
        if connector["protocol"] != "opcua":
            continue
        options = {k: v for k, v in connector.items() if k not in ("protocol", "description")}
        parsed = OpcUaOptions.model_validate(options)
        assert parsed.security_mode == "SignAndEncrypt", name
        assert parsed.subscription(None).publishing_ms == 500.0


def test_groups_inherit_the_connector_defaults() -> None:
    options = OpcUaOptions.model_validate(
        {
            "endpoint": "opc.tcp://plc:4840",
            "publishing_interval": "1s",
            "sampling_interval": "250ms",
            "queue_size": 5,
            "deadband": {"type": "percent", "value": 2},
            "groups": {"fast": {"publishing_interval": "0ms", "queue_size": 50}},
        }
    )
    fast = options.subscription("fast")
    assert (fast.publishing_ms, fast.sampling_ms, fast.queue_size) == (0.0, 250.0, 50)
    assert fast.deadband == Deadband(type="percent", value=2)
    default = options.subscription(None)
    assert (default.name, default.publishing_ms, default.queue_size) == ("default", 1000.0, 5)
    with pytest.raises(KeyError):
        options.subscription("nope")


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"endpoint": "http://plc:4840"}, "String should match pattern"),
        ({"endpoint": "opc.tcp://plc:4840", "publishing_interval": 500}, "needs a unit"),
        ({"endpoint": "opc.tcp://plc:4840", "publishing_interval": "fast"}, "not understood"),
        ({"endpoint": "opc.tcp://plc:4840", "security_policy": "Basic256Sha256"}, "go together"),
        ({"endpoint": "opc.tcp://plc:4840", "certificate": "a.der"}, "go together"),
        ({"endpoint": "opc.tcp://plc:4840", "password": "x"}, "password without username"),
        ({"endpoint": "opc.tcp://plc:4840", "endpiont": "x"}, "Extra inputs are not permitted"),
        ({"endpoint": "opc.tcp://plc:4840", "deadband": {"type": "rel", "value": 1}}, "absolute"),
    ],
)
def test_bad_options_are_refused_saying_why(options: dict[str, object], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        OpcUaOptions.model_validate(options)


def test_address_forms() -> None:
    assert parse_address("i=2258").node_id.Identifier == 2258
    uri = parse_address("nsu=urn:acme;s=Mill01.Temp")
    assert (uri.namespace_uri, uri.node_id.Identifier) == ("urn:acme", "Mill01.Temp")
    path = parse_address("path=/Objects/2:Machines/Mill 01/3:Temperature")
    assert path.steps == ((0, "Objects"), (2, "Machines"), (0, "Mill 01"), (3, "Temperature"))
    for bad in ("path=Objects/2:Mill01", "path=/Objects//2:Mill01", "x=12"):
        with pytest.raises(ConfigError, match=r"OPC UA address|browse path"):
            parse_address(bad)

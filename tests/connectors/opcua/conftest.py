from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.connectors.opcua.server import OpcUaTestServer, Var


@pytest.fixture
def machine_vars() -> dict[str, Var]:
    from asyncua import ua

    return {
        "Mill01.Temperature": Var(21.5, unit=("CEL", "°C")),
        "Mill01.Speed": Var(1200, ua.VariantType.Int32, unit=("RPM", "r/min")),
        "Mill01.Running": Var(True, ua.VariantType.Boolean),
        "Mill01.Program": Var("O1000", ua.VariantType.String),
        "Mill01.Profile": Var([1.0, 2.0], ua.VariantType.Double),
    }


@pytest.fixture
def opcua_server(machine_vars: dict[str, Var]) -> Iterator[OpcUaTestServer]:
    """A started asyncua server with the machine variables (see ``server.py``)."""
    server = OpcUaTestServer(machine_vars)
    server.start()
    yield server
    server.close()

"""Faults: a server restart mid-stream, an unreachable endpoint, write-back refusals."""

from __future__ import annotations

import pytest

from omp.connectors.base import WriteError
from omp.connectors.opcua import PLUGIN
from omp.model.kinds import Protocol
from tests.connectors.opcua.server import OpcUaTestServer
from tests.connectors.opcua.test_subscribe import BINDINGS, model
from tests.connectors.support import free_port, registry_of, running_host, wait_for

PLUGINS = {Protocol.OPCUA: PLUGIN}
TEMP = "ns=2;s=Mill01.Temperature"


def test_server_restart_mid_stream_resubscribes_exactly_once(
    opcua_server: OpcUaTestServer,
) -> None:
    bindings = """\
                      temp: {address: ns=2;s=Mill01.Temperature, group: fast}
                      speed: ns=2;s=Mill01.Speed
                      running: ns=2;s=Mill01.Running
"""
    options = "    groups:\n      fast: {publishing_interval: 20ms}\n"
    registry = registry_of(model(opcua_server.url, bindings, options))
    with running_host(registry, PLUGINS) as (host, sink):
        wait_for(lambda: len(sink.addresses()) == 3, what="3 nodes")
        opcua_server.set("Mill01.Temperature", 1.5)
        wait_for(lambda: 1.5 in sink.values(TEMP), what="value before restart")
        opcua_server.restart()
        wait_for(lambda: host.health()["ua"]["restarts"] >= 1, what="the loss noticed")
        wait_for(lambda: host.health()["ua"]["state"] == "connected", what="reconnected")
        opcua_server.set("Mill01.Temperature", 2.5)
        wait_for(lambda: 2.5 in sink.values(TEMP), what="values flowing after restart")
        assert opcua_server.subscriptions() == 2
        assert opcua_server.monitored_items() == 3
        health = host.health()["ua"]
        assert health["crashes"] == 0
        assert "127.0.0.1" in health["last_error"]


def test_unreachable_endpoint_shows_lost_naming_it_and_the_host_keeps_running() -> None:
    port = free_port()
    url = f"opc.tcp://127.0.0.1:{port}/omp/"
    registry = registry_of(model(url, BINDINGS))
    with running_host(registry, PLUGINS) as (host, _):
        wait_for(lambda: host.health()["ua"]["restarts"] >= 2, what="repeated attempts")
        health = host.health()["ua"]
        assert health["state"] == "lost"
        assert f"127.0.0.1:{port}" in health["last_error"]
        assert health["crashes"] == 0
        # The endpoint comes up later: the same host connects without help.
        server = OpcUaTestServer(_vars(), port=port)
        server.start()
        try:
            wait_for(lambda: host.health()["ua"]["state"] == "connected", what="late connect")
        finally:
            server.close()


def _vars() -> dict[str, object]:
    from asyncua import ua

    from tests.connectors.opcua.server import Var

    return {
        "Mill01.Temperature": Var(1.0),
        "Mill01.Speed": Var(1, ua.VariantType.Int32),
        "Mill01.Running": Var(False, ua.VariantType.Boolean),
        "Mill01.Program": Var("", ua.VariantType.String),
    }


SETPOINT_MODEL = """
format: 1
enterprise: acme
connectors:
  ua: {{protocol: opcua, endpoint: "{url}", publishing_interval: 50ms}}
equipment_types:
  mill:
    signals:
      speed_sp: {{datatype: float, kind: setpoint, unit: /min}}
      run_sp: {{datatype: bool, kind: setpoint}}
      temp_sp: {{datatype: float, kind: setpoint, unit: Cel}}
      locked_sp: {{datatype: float, kind: setpoint}}
sites:
  s:
    timezone: UTC
    areas: {{a: {{lines: {{l: {{cells: {{c: {{equipment: {{m1: {{
      type: mill, connector: ua, bindings: {{
      speed_sp: ns=2;s=Mill01.Speed,
      run_sp: ns=2;s=Mill01.Running,
      temp_sp: ns=2;s=Mill01.Temperature,
      locked_sp: ns=2;s=Mill01.Locked}}}}}}}}}}}}}}}}}}
"""


def test_write_back_uses_the_node_datatype_and_names_refusals() -> None:
    from tests.connectors.opcua.server import Var

    variables = _vars() | {"Mill01.Locked": Var(0.0, writable=False)}
    server = OpcUaTestServer(variables)  # type: ignore[arg-type]
    server.start()
    try:
        registry = registry_of(SETPOINT_MODEL.format(url=server.url))
        with running_host(registry, PLUGINS) as (host, _):
            wait_for(lambda: host.health()["ua"]["state"] == "connected", what="connected")
            host.write("acme/s/a/l/c/m1/speed_sp", 1500.0)
            host.write("acme/s/a/l/c/m1/run_sp", True)
            host.write("acme/s/a/l/c/m1/temp_sp", 60.5)
            assert server.get("Mill01.Speed") == 1500
            assert isinstance(server.get("Mill01.Speed"), int)  # Int32 on the server
            assert server.get("Mill01.Running") is True
            assert server.get("Mill01.Temperature") == 60.5
            with pytest.raises(
                WriteError,
                match=r"ns=2;s=Mill01.Locked: the server refused the write \(BadUserAccessDenied\)",
            ):
                host.write("acme/s/a/l/c/m1/locked_sp", 1.0)
            with pytest.raises(WriteError, match=r"ns=2;s=Mill01.Speed.*1500.5.*Int32"):
                host.write("acme/s/a/l/c/m1/speed_sp", 1500.5)
    finally:
        server.close()


def test_a_frozen_server_is_noticed_and_reconnected(opcua_server: OpcUaTestServer) -> None:
    """The TCP connection stays open but the server answers nothing (a hung PLC runtime)."""
    options = "    request_timeout: 1s\n"
    registry = registry_of(model(opcua_server.url, BINDINGS, options))
    with running_host(registry, PLUGINS) as (host, sink):
        wait_for(lambda: sink.values(TEMP), what="first value")
        opcua_server.freeze(4.0)
        wait_for(lambda: host.health()["ua"]["state"] == "lost", what="the hang noticed")
        first_loss = host.health()["ua"]["last_error"]
        assert "127.0.0.1" in first_loss
        assert "link lost" in first_loss
        wait_for(lambda: host.health()["ua"]["state"] == "connected", 20, what="reconnected")
        opcua_server.set("Mill01.Temperature", 8.25)
        wait_for(lambda: 8.25 in sink.values(TEMP), what="values after the hang")
        assert host.health()["ua"]["crashes"] == 0

"""Faults: a silent unit, exception responses, a server restart, a bad binding."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from omp.connectors.health import LinkState
from tests.connectors.modbus.model import PLUGINS, Sig, plc_registry
from tests.connectors.modbus.server import ModbusTestServer, Tables
from tests.connectors.modbus.slow_gateway import SlowGateway
from tests.connectors.support import RecordingSink, free_port, running_host, wait_for


@pytest.fixture
def server() -> Iterator[ModbusTestServer]:
    server = ModbusTestServer({1: Tables(holding=list(range(200))), 9: Tables()})
    server.start()
    yield server
    server.stop()


def plc(server: ModbusTestServer, **more: object) -> dict[str, object]:
    return {"host": "127.0.0.1", "port": server.port, "poll_interval": "50ms", **more}


def device(server: ModbusTestServer, unit: int) -> str:
    return f"127.0.0.1:{server.port}/unit {unit}"


def test_silent_unit_counts_timeouts_while_other_units_flow(server: ModbusTestServer) -> None:
    server.silent.add(9)
    signals = {"ok": Sig("holding:3"), "dead": Sig("9:holding:3")}
    registry = plc_registry(plc(server, timeout="150ms"), signals)
    with running_host(registry, PLUGINS) as (host, sink):
        health = host.connector_health("plc")
        dead = device(server, 9)
        wait_for(
            lambda: health.snapshot()["devices"].get(dead, {}).get("errors", 0) >= 3,
            what="three timeouts of unit 9",
        )
        report = health.snapshot()["devices"][dead]
        assert report["state"] == LinkState.LOST.value
        assert "holding 3-3 of unit 9" in report["last_error"]
        assert "no answer" in report["last_error"]
        before = len(sink.values("holding:3"))
        wait_for(lambda: len(sink.values("holding:3")) >= before + 3, what="unit 1 still polled")
        assert health.device_state(device(server, 1)) is LinkState.CONNECTED
        assert health.is_connected
        assert sink.values("9:holding:3") == []


def test_exception_response_is_counted_and_other_groups_flow(server: ModbusTestServer) -> None:
    signals = {
        "good": Sig("holding:10:uint16"),
        "beyond": Sig("holding:1000:uint16", group="bad"),  # the datastore ends at 199
    }
    registry = plc_registry(plc(server, groups={"bad": {"interval": "50ms"}}), signals)
    with running_host(registry, PLUGINS) as (host, sink):
        health = host.connector_health("plc")
        unit1 = device(server, 1)
        wait_for(
            lambda: health.snapshot()["devices"].get(unit1, {}).get("errors", 0) >= 2,
            what="exception responses counted",
        )
        report = health.snapshot()["devices"][unit1]
        assert (
            report["last_error"]
            == "holding 1000-1000 of unit 1: exception 2 (illegal data address)"
        )
        assert report["state"] == LinkState.CONNECTED.value  # the device answered
        wait_for(lambda: len(sink.values("holding:10:uint16")) >= 3, what="the good group flows")
        assert sink.values("holding:1000:uint16") == []


def test_server_restart_reconnects_and_values_flow_again(server: ModbusTestServer) -> None:
    registry = plc_registry(plc(server), {"v": Sig("holding:42:uint16")})
    with running_host(registry, PLUGINS) as (host, sink):
        health = host.connector_health("plc")
        wait_for(lambda: len(sink.values("holding:42:uint16")) >= 2, what="first values")
        server.stop()
        wait_for(lambda: health.state is LinkState.LOST, what="the link counted lost")
        assert f"127.0.0.1:{server.port}" in (health.snapshot()["last_error"] or "")
        seen = len(sink.values("holding:42:uint16"))
        server.start()
        wait_for(lambda: len(sink.values("holding:42:uint16")) >= seen + 3, what="values again")
        wait_for(lambda: health.is_connected, what="the link back")
        assert health.snapshot()["restarts"] >= 1
        assert health.snapshot()["crashes"] == 0


def test_unreachable_host_is_a_lost_link_naming_it() -> None:
    port = free_port()  # nothing listens there
    registry = plc_registry({"host": "127.0.0.1", "port": port}, {"v": Sig("holding:1")})
    with running_host(registry, PLUGINS) as (host, _):
        health = host.connector_health("plc")
        wait_for(lambda: health.snapshot()["restarts"] >= 2, what="repeated connect attempts")
        assert f"127.0.0.1:{port}" in (health.snapshot()["last_error"] or "")
        assert health.snapshot()["crashes"] == 0


def test_binding_to_an_undefined_group_is_reported_and_the_rest_flows(
    server: ModbusTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    signals = {"v": Sig("holding:1"), "lost": Sig("holding:2", group="nope")}
    registry = plc_registry(plc(server), signals)
    with running_host(registry, PLUGINS) as (host, sink):
        wait_for(lambda: len(sink.values("holding:1")) >= 2, what="the good binding")
        assert host.connector_health("plc").snapshot()["errors"] >= 1
        assert sink.values("holding:2") == []
    problems = [r.getMessage() for r in caplog.records if "'nope'" in r.getMessage()]
    assert problems == [
        "connector 'plc': modbus address 'holding:2' names polling group 'nope', "
        "which the connector does not define (groups: none); not polled"
    ]


def test_server_that_stops_answering_costs_the_link_then_recovers(
    server: ModbusTestServer,
) -> None:
    registry = plc_registry(plc(server, timeout="100ms"), {"v": Sig("holding:8:uint16")})
    with running_host(registry, PLUGINS) as (host, sink):
        health = host.connector_health("plc")
        wait_for(lambda: len(sink.values("holding:8:uint16")) >= 2, what="first values")
        server.answering = False  # TCP stays up, nothing answers
        wait_for(lambda: health.snapshot()["restarts"] >= 1, what="the hung link dropped")
        assert f"127.0.0.1:{server.port}" in (health.snapshot()["last_error"] or "")
        assert health.snapshot()["devices"][device(server, 1)]["errors"] >= 2
        assert "no answer from any unit (1)" in health.snapshot()["last_error"]
        server.answering = True
        seen = len(sink.values("holding:8:uint16"))
        wait_for(lambda: len(sink.values("holding:8:uint16")) >= seen + 3, what="values again")


def test_backpressure_holds_polls_and_loses_nothing(server: ModbusTestServer) -> None:
    signals = {f"r{i:03d}": Sig(f"holding:{i}:uint16") for i in range(200)}
    registry = plc_registry(plc(server, poll_interval="5ms"), signals)
    sink = RecordingSink(full=True)
    with running_host(registry, PLUGINS, sink) as (host, _):
        health = host.connector_health("plc")
        # The feed holds 20,000 values (100 polls of 200), then polling waits for the sink.
        wait_for(lambda: health.snapshot()["values"] >= 20_000, what="the feed filled")
        held = health.snapshot()["values"]
        reads = len(server.seen())
        refusals = health.snapshot()["errors"]  # the host notes each refused flush (every 20 ms)
        wait_for(lambda: health.snapshot()["errors"] >= refusals + 5, what="five refused flushes")
        assert "backpressure" in (health.snapshot()["last_error"] or "")
        assert len(server.seen()) <= reads + 2  # no new polls while the sink refuses
        sink.full = False
        wait_for(lambda: len(sink.rows) >= held + 400, what="held values and new polls")
        assert sink.values("holding:199:uint16")[:5] == [199.0] * 5


def test_dead_unit_with_many_reads_never_cuts_the_gateway(server: ModbusTestServer) -> None:
    server.silent.add(9)
    signals = {f"dead{i}": Sig(f"9:holding:{i * 20}") for i in range(6)}  # six separate reads
    signals["ok"] = Sig("holding:3")
    registry = plc_registry(plc(server, timeout="100ms", max_gap=0), signals)
    with running_host(registry, PLUGINS) as (host, sink):
        health = host.connector_health("plc")
        dead = device(server, 9)
        wait_for(
            lambda: health.snapshot()["devices"].get(dead, {}).get("errors", 0) >= 12,
            what="two polls of timeouts on unit 9",
        )
        wait_for(lambda: len(sink.values("holding:3")) >= 2, what="unit 1 polled again")
        assert health.snapshot()["restarts"] == 0
        assert health.device_state(device(server, 1)) is LinkState.CONNECTED


def test_late_answers_of_a_slow_unit_never_land_on_another() -> None:
    gateway = SlowGateway({9: 0.25})  # unit 9 answers, but after the 100 ms timeout
    gateway.start()
    try:
        options = {"host": "127.0.0.1", "port": gateway.port, "timeout": "100ms"}
        signals = {"fast": Sig("holding:5"), "slow": Sig("9:holding:5")}
        registry = plc_registry(options | {"poll_interval": "20ms"}, signals)
        with running_host(registry, PLUGINS) as (host, sink):
            health = host.connector_health("plc")
            slow = f"127.0.0.1:{gateway.port}/unit 9"
            wait_for(
                lambda: health.snapshot()["devices"].get(slow, {}).get("errors", 0) >= 4,
                what="four late answers from unit 9",
            )
            wait_for(lambda: len(sink.values("holding:5")) >= 4, what="unit 1 values")
            assert set(sink.values("holding:5")) == {1005.0}  # unit 9 would say 9005
            assert sink.values("9:holding:5") == []
            assert health.snapshot()["restarts"] == 0
    finally:
        gateway.stop()

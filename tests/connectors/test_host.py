"""The connector host: restarts, crash isolation, health, reload, write-back, backpressure."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time

import pytest

from omp.connectors.backoff import Backoff
from omp.connectors.base import ConnectionLostError, Session, WriteError
from omp.connectors.health import LinkState
from omp.connectors.host import ConnectorHost
from omp.core.errors import ConfigError, UnknownSignalError
from omp.model.kinds import Protocol
from tests.connectors.fakes import FakeConnector, FakeWorld
from tests.connectors.support import (
    FAST_BACKOFF,
    RecordingSink,
    registry_of,
    running_host,
    wait_for,
)

T0 = 1_767_225_600_000_000

MODEL = """
enterprise: acme
equipment_types:
  oven:
    signals:
      temp: {unit: Cel}
      target: {kind: setpoint, unit: Cel}
      enabled: {kind: setpoint, datatype: bool}
connectors:
  plc_a: {protocol: mqtt, label: a}
  plc_b: {protocol: mqtt, label: b}
sites:
  s:
    timezone: UTC
    areas:
      a:
        lines:
          l:
            cells:
              c:
                equipment:
                  oven_1:
                    type: oven
                    connector: plc_a
                    bindings:
                      temp: t1
                      target: {address: sp1, unit: "[degF]"}
                      enabled: en1
                  oven_2: {type: oven, connector: plc_b, bindings: {temp: t2}}
"""


async def emit_forever(connector: FakeConnector, session: Session) -> None:
    session.health.connected()
    index = session.feed.address(f"t{connector.spec.name[-1]}", "Cel")
    n = 0
    while True:
        session.feed.add(index, T0 + n, float(n))
        session.health.received(1, device="d1")
        n += 1
        await asyncio.sleep(0.005)


def test_values_flow_in_batches_with_units() -> None:
    world = FakeWorld(emit_forever)
    with running_host(registry_of(MODEL), {Protocol.MQTT: world.plugin()}) as (_, sink):
        wait_for(lambda: len(sink.values("ta")) >= 20, what="20 values from plc_a")
    values = sink.values("ta")
    assert values[:20] == [float(n) for n in range(20)]
    assert {row.unit for row in sink.rows} == {"Cel"}
    assert sink.batches < len(sink.rows)  # batched, not one submit per value


def test_a_crash_is_restarted_reported_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    async def crash_always(connector: FakeConnector, session: Session) -> None:
        if connector.spec.name == "plc_a":
            raise RuntimeError("decoder bug")
        await emit_forever(connector, session)

    world = FakeWorld(crash_always)
    caplog.set_level(logging.INFO, logger="omp.connectors")
    with running_host(registry_of(MODEL), {Protocol.MQTT: world.plugin()}) as (host, sink):
        wait_for(lambda: world.runs.get("plc_a", 0) >= 4, what="plc_a restarted 3 times")
        health = host.health()["plc_a"]
        wait_for(lambda: len(sink.values("tb")) > 10, what="plc_b keeps flowing")
    assert health["crashes"] >= 3
    assert health["restarts"] >= 3
    assert "RuntimeError: decoder bug" in health["last_error"]
    tracebacks = [r for r in caplog.records if r.exc_info and "plc_a" in r.getMessage()]
    assert len(tracebacks) == 1  # the same crash is not logged with a traceback every retry


def test_lost_link_logs_transitions_not_retries(caplog: pytest.LogCaptureFixture) -> None:
    async def flaky(connector: FakeConnector, session: Session) -> None:
        if connector.run_count in (2, 3, 4):  # three failed reconnects in a row
            raise ConnectionLostError("broker 127.0.0.1:1 refused the connection")
        session.health.connected()
        await asyncio.sleep(0.02)
        if connector.run_count == 1:
            raise ConnectionLostError("broker closed the connection")
        await asyncio.sleep(60)

    world = FakeWorld(flaky)
    caplog.set_level(logging.INFO, logger="omp.connectors")
    with running_host(registry_of(MODEL), {Protocol.MQTT: world.plugin()}) as (host, _):
        wait_for(lambda: world.runs.get("plc_a", 0) >= 5, what="fifth run")
        wait_for(lambda: host.health()["plc_a"]["state"] == "connected", what="recovered")
        health = host.health()["plc_a"]
    messages = [r.getMessage() for r in caplog.records if "'plc_a'" in r.getMessage()]
    assert messages.count("connector 'plc_a' lost: broker closed the connection") == 1
    assert not any("refused" in m for m in messages)  # retries while lost are not logged
    assert "connector 'plc_a' recovered" in messages
    assert health["crashes"] == 0
    assert health["errors"] == 4  # every failed attempt is counted


def test_device_health_is_kept_per_device() -> None:
    async def two_devices(connector: FakeConnector, session: Session) -> None:
        session.health.connected()
        session.health.connected(device="unit 1")
        session.health.received(3, device="unit 1")
        session.health.lost("timeout reading holding 0-9", device="unit 2")
        await asyncio.sleep(60)

    world = FakeWorld(two_devices)
    with running_host(registry_of(MODEL), {Protocol.MQTT: world.plugin()}) as (host, _):
        wait_for(lambda: "unit 2" in host.health()["plc_a"]["devices"], what="device health")
        devices = host.health()["plc_a"]["devices"]
    assert devices["unit 1"]["state"] == "connected"
    assert devices["unit 1"]["values"] == 3
    assert devices["unit 2"]["state"] == "lost"
    assert devices["unit 2"]["last_error"] == "timeout reading holding 0-9"


def test_backpressure_keeps_values_until_the_sink_takes_them() -> None:
    async def burst(connector: FakeConnector, session: Session) -> None:
        session.health.connected()
        index = session.feed.address("t" + connector.spec.name[-1])
        for n in range(100):
            session.feed.add(index, T0 + n, float(n))
        await asyncio.sleep(60)

    world = FakeWorld(burst)
    sink = RecordingSink(full=True)
    with running_host(registry_of(MODEL), {Protocol.MQTT: world.plugin()}, sink) as (host, _):
        wait_for(lambda: "backpressure" in (host.health()["plc_a"]["last_error"] or ""))
        assert sink.rows == []
        sink.full = False
        wait_for(lambda: len(sink.values("ta")) == 100, what="held values delivered")
    assert sink.values("ta") == [float(n) for n in range(100)]


def test_stop_flushes_what_is_pending() -> None:
    async def add_then_wait(connector: FakeConnector, session: Session) -> None:
        session.health.connected()
        session.feed.add(session.feed.address("t" + connector.spec.name[-1]), T0, 1.0)
        await asyncio.sleep(60)

    world = FakeWorld(add_then_wait)
    sink = RecordingSink()
    host = ConnectorHost(
        registry_of(MODEL), sink, {Protocol.MQTT: world.plugin()}, flush_interval=30
    )
    host.start()
    wait_for(lambda: world.runs.get("plc_a") == 1)
    time.sleep(0.05)
    host.stop()
    assert sink.values("ta") == [1.0]
    assert host.health() == {}


def test_reload_restarts_only_what_changed() -> None:
    async def idle(connector: FakeConnector, session: Session) -> None:
        session.health.connected()
        await asyncio.sleep(60)

    world = FakeWorld(idle)
    with running_host(registry_of(MODEL), {Protocol.MQTT: world.plugin()}) as (host, _):
        wait_for(lambda: len(world.runs) == 2)
        changed_options = MODEL.replace("label: b}", "label: b2}")
        added = changed_options.replace(
            "  plc_b: {protocol: mqtt, label: b2}",
            "  plc_b: {protocol: mqtt, label: b2}\n  plc_c: {protocol: mqtt}",
        )
        assert sorted(host.reload(registry_of(added))) == ["plc_b", "plc_c"]
        wait_for(lambda: len(host.health()) == 3)
        assert world.created.count("plc_a") == 1
        assert world.created.count("plc_b") == 2
        removed = added.replace("  plc_c: {protocol: mqtt}\n", "")
        assert host.reload(registry_of(removed)) == ["plc_c"]
        assert sorted(host.health()) == ["plc_a", "plc_b"]


def test_bad_options_name_the_connector() -> None:
    world = FakeWorld(emit_forever)
    bad = MODEL.replace("label: a}", "label: a, perod: 2}")
    with pytest.raises(ConfigError, match="connector 'plc_a': option perod"):
        ConnectorHost(registry_of(bad), RecordingSink(), {Protocol.MQTT: world.plugin()})
    with pytest.raises(ConfigError, match="no connector for protocol mqtt"):
        ConnectorHost(registry_of(MODEL), RecordingSink(), {})


def test_write_back_converts_to_the_source_unit_and_checks_the_signal() -> None:
    async def idle(connector: FakeConnector, session: Session) -> None:
        session.health.connected()
        await asyncio.sleep(60)

    world = FakeWorld(idle)
    path = "acme/s/a/l/c/oven_1/"
    with running_host(registry_of(MODEL), {Protocol.MQTT: world.plugin()}) as (host, _):
        wait_for(lambda: host.health().get("plc_a", {}).get("state") == "connected")
        host.write(path + "target", 100.0)  # Cel in the model, [degF] at the source
        host.write(path + "enabled", 1)
        with pytest.raises(WriteError, match="is a measurement; only setpoints"):
            host.write(path + "temp", 1.0)
        with pytest.raises(WriteError, match="not a bool"):
            host.write(path + "enabled", 3)
        with pytest.raises(UnknownSignalError):
            host.write(path + "nope", 1.0)
    assert world.writes[0][:2] == ("plc_a", "sp1")
    assert world.writes[0][2] == pytest.approx(212.0)
    assert world.writes[1] == ("plc_a", "en1", True)


def test_write_back_needs_a_link() -> None:
    async def never_connects(connector: FakeConnector, session: Session) -> None:
        raise ConnectionLostError("device 10.0.0.9:4840 unreachable")

    world = FakeWorld(never_connects)
    with running_host(registry_of(MODEL), {Protocol.MQTT: world.plugin()}) as (host, _):
        wait_for(lambda: host.connector_health("plc_a").state is LinkState.LOST)
        with pytest.raises(WriteError, match="'plc_a' has no link"):
            host.write("acme/s/a/l/c/oven_1/target", 20.0)


def test_backoff_grows_while_the_device_stays_away() -> None:
    starts: list[float] = []

    async def refuse(connector: FakeConnector, session: Session) -> None:
        if connector.spec.name == "plc_a":
            starts.append(time.monotonic())
        raise ConnectionLostError("refused")

    world = FakeWorld(refuse)
    with running_host(registry_of(MODEL), {Protocol.MQTT: world.plugin()}):
        wait_for(lambda: len(starts) >= 6, timeout=20)
    # FAST_BACKOFF: 0.05 s doubling to 0.5 s, with jitter: later ceilings are larger.
    assert FAST_BACKOFF().maximum == 0.5
    assert starts[-1] - starts[0] < 5


def test_a_link_that_drops_at_once_keeps_backing_off() -> None:
    starts: list[float] = []

    async def flap(connector: FakeConnector, session: Session) -> None:
        if connector.spec.name == "plc_a":
            starts.append(time.monotonic())
        session.health.connected()  # the device accepts the connection ...
        raise ConnectionLostError("... and closes it at once")

    world = FakeWorld(flap)
    steady = lambda: Backoff(initial=0.02, maximum=0.64, random=lambda: 1.0)  # noqa: E731
    host = ConnectorHost(
        registry_of(MODEL), RecordingSink(), {Protocol.MQTT: world.plugin()}, backoff=steady
    )
    host.start()
    try:
        wait_for(lambda: len(starts) >= 6, timeout=20, what="six attempts")
    finally:
        host.stop()
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert gaps[4] > 0.25  # 0.02, 0.04, 0.08, 0.16, 0.32: not reset by the brief connects

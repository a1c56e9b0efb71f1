"""The OPC UA connector against a real asyncua server: values, types, quality, groups."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable

from asyncua import ua

from omp.connectors.base import ConnectorSpec, Session
from omp.connectors.feed import Feed
from omp.connectors.health import ConnectorHealth
from omp.connectors.host import connector_specs
from omp.connectors.opcua import PLUGIN
from omp.core.errors import BackpressureError
from omp.core.quality import Quality
from omp.core.rejects import RejectReason
from omp.core.time import system_clock
from omp.model.kinds import Protocol
from tests.connectors.opcua.server import OpcUaTestServer
from tests.connectors.support import RecordingSink, registry_of, running_host, wait_for

PLUGINS = {Protocol.OPCUA: PLUGIN}
TEMP = "ns=2;s=Mill01.Temperature"


def model(url: str, bindings: str, options: str = "") -> str:
    return f"""
format: 1
enterprise: acme
connectors:
  ua:
    protocol: opcua
    endpoint: {url}
    publishing_interval: 50ms
{options}
equipment_types:
  mill:
    signals:
      temp: {{datatype: float, unit: Cel}}
      speed: {{datatype: float, unit: /min}}
      running: {{datatype: bool, kind: state}}
      program: {{datatype: string, kind: text}}
      profile: {{datatype: float}}
      missing: {{datatype: float}}
sites:
  munich:
    timezone: Europe/Berlin
    areas:
      machining:
        lines:
          line1:
            cells:
              cell1:
                equipment:
                  mill01:
                    type: mill
                    connector: ua
                    bindings:
{bindings}
"""


BINDINGS = """\
                      temp: ns=2;s=Mill01.Temperature
                      speed: ns=2;s=Mill01.Speed
                      running: ns=2;s=Mill01.Running
                      program: ns=2;s=Mill01.Program
"""


def test_values_of_every_scalar_type_flow_with_source_timestamps(
    opcua_server: OpcUaTestServer,
) -> None:
    registry = registry_of(model(opcua_server.url, BINDINGS))
    with running_host(registry, PLUGINS) as (host, sink):
        wait_for(lambda: len(sink.addresses()) == 4, what="initial values of 4 nodes")
        opcua_server.set("Mill01.Temperature", 42.25)
        wait_for(lambda: 42.25 in sink.values("ns=2;s=Mill01.Temperature"), what="new temperature")
        assert sink.values("ns=2;s=Mill01.Speed")[0] == 1200
        assert sink.values("ns=2;s=Mill01.Running")[0] == 1.0
        assert sink.values("ns=2;s=Mill01.Program")[0] == "O1000"
        assert host.health()["ua"]["state"] == "connected"
    row = next(r for r in sink.rows if r.value == 42.25)
    assert row.quality == Quality.GOOD
    assert abs(row.ts / 1e6 - __import__("time").time()) < 30


def test_status_codes_map_to_quality(opcua_server: OpcUaTestServer) -> None:
    """Uncertain keeps its value; a Bad value comes without one (the server nulls it, as the
    spec says) and is kept as a NaN row of quality Bad, so the outage is on record."""
    address = "ns=2;s=Mill01.Temperature"
    registry = registry_of(model(opcua_server.url, BINDINGS))
    with running_host(registry, PLUGINS) as (_, sink):
        wait_for(lambda: sink.values(address), what="first value")
        uncertain = ua.StatusCode(ua.StatusCodes.UncertainLastUsableValue)
        opcua_server.set("Mill01.Temperature", 1.0, uncertain)
        wait_for(lambda: 1.0 in sink.values(address), what="uncertain value")
        opcua_server.set("Mill01.Temperature", 2.0, ua.StatusCode(ua.StatusCodes.BadSensorFailure))
        wait_for(
            lambda: any(r.quality == Quality.BAD for r in sink.rows if r.address == address),
            what="bad row",
        )
    rows = [r for r in sink.rows if r.address == address]
    assert [r.quality for r in rows if r.value == 1.0] == [Quality.UNCERTAIN]
    bad = [r for r in rows if r.quality == Quality.BAD]
    assert len(bad) == 1
    assert isinstance(bad[0].value, float)
    assert math.isnan(bad[0].value)
    assert rows[0].quality == Quality.GOOD


def test_array_value_is_rejected_naming_the_node_and_others_flow(
    opcua_server: OpcUaTestServer,
) -> None:
    bindings = BINDINGS + "                      profile: ns=2;s=Mill01.Profile\n"
    registry = registry_of(model(opcua_server.url, bindings))
    with running_host(registry, PLUGINS) as (host, sink):
        wait_for(lambda: sink.rejected(RejectReason.WRONG_TYPE) >= 1, what="array rejected")
        wait_for(lambda: len(sink.addresses()) == 4, what="the 4 scalar nodes")
        assert ("ua", "ns=2;s=Mill01.Profile", RejectReason.WRONG_TYPE) in sink.rejects
        assert "ns=2;s=Mill01.Profile" not in sink.addresses()
        assert "Mill01.Profile" in (host.health()["ua"]["last_error"] or "")


def test_unknown_node_is_reported_per_node_while_others_flow(
    opcua_server: OpcUaTestServer,
) -> None:
    bindings = BINDINGS + "                      missing: ns=2;s=Mill01.NoSuchNode\n"
    registry = registry_of(model(opcua_server.url, bindings))
    with running_host(registry, PLUGINS) as (host, sink):
        wait_for(lambda: len(sink.addresses()) == 4, what="the 4 good nodes")
        opcua_server.set("Mill01.Temperature", 7.5)
        wait_for(lambda: 7.5 in sink.values("ns=2;s=Mill01.Temperature"), what="values go on")
        device = host.health()["ua"]["devices"]["ns=2;s=Mill01.NoSuchNode"]
        assert device["state"] == "lost"
        assert device["errors"] == 1
        assert "BadNodeIdUnknown" in device["last_error"]
        assert host.health()["ua"]["state"] == "connected"
        assert opcua_server.monitored_items() == 4


def test_groups_make_one_subscription_each_with_their_own_interval(
    opcua_server: OpcUaTestServer,
) -> None:
    bindings = """\
                      temp: {address: ns=2;s=Mill01.Temperature, group: fast}
                      speed: {address: ns=2;s=Mill01.Speed, group: slow}
                      running: ns=2;s=Mill01.Running
"""
    options = """\
    groups:
      fast: {publishing_interval: 20ms, sampling_interval: 10ms, queue_size: 10}
      slow: {publishing_interval: 1s, deadband: {type: absolute, value: 5}}
"""
    registry = registry_of(model(opcua_server.url, bindings, options))
    with running_host(registry, PLUGINS) as (_, sink):
        wait_for(lambda: len(sink.addresses()) == 3, what="3 nodes")
        assert opcua_server.subscriptions() == 3
        intervals = sorted(
            s.data.RevisedPublishingInterval
            for s in opcua_server.server.iserver.subscription_service.subscriptions.values()
        )
        assert intervals == [20, 50, 1000]
        # The slow group's absolute deadband of 5 swallows a change of 1 and passes one of 10.
        opcua_server.set("Mill01.Speed", 1201)
        opcua_server.set("Mill01.Speed", 1211)
        wait_for(lambda: 1211 in sink.values("ns=2;s=Mill01.Speed"), what="change beyond deadband")
        assert 1201 not in sink.values("ns=2;s=Mill01.Speed")


def test_browse_path_and_namespace_uri_addresses_resolve(opcua_server: OpcUaTestServer) -> None:
    """Until the model accepts ``path=`` addresses, the resolver is driven directly."""
    import asyncio

    from omp.connectors.opcua.addresses import parse_address, resolve
    from omp.connectors.opcua.link import close_client, open_client
    from omp.connectors.opcua.options import OpcUaOptions

    async def scenario() -> dict[str, str]:
        client = await open_client(OpcUaOptions(endpoint=opcua_server.url))
        try:
            addresses = [
                "path=/Objects/2:Machines/2:Mill01/2:Temperature",
                "nsu=urn:omp:test:machines;s=Mill01.Speed",
                "path=/Objects/2:Machines/2:Mill01/2:Nothing",
            ]
            found = await resolve(client.uaclient.session, [parse_address(a) for a in addresses])
            return {a: n.to_string() for a, n in found.node_ids.items()} | {
                a: "failed: " + why for a, why in found.failures.items()
            }
        finally:
            await close_client(client)

    result = asyncio.run(scenario())
    assert result["path=/Objects/2:Machines/2:Mill01/2:Temperature"] == "ns=2;s=Mill01.Temperature"
    assert result["nsu=urn:omp:test:machines;s=Mill01.Speed"] == "ns=2;s=Mill01.Speed"
    assert result["path=/Objects/2:Machines/2:Mill01/2:Nothing"].startswith("failed: browse path")


def test_browse_path_binding_flows_and_writes_through_the_connector(
    opcua_server: OpcUaTestServer,
) -> None:
    """The connector run directly (the model does not accept ``path=`` yet): values arrive
    under the path address, and a write to it lands on the resolved node."""
    registry = registry_of(model(opcua_server.url, BINDINGS))
    base = connector_specs(registry, PLUGINS)["ua"]
    path = "path=/Objects/2:Machines/2:Mill01/2:Temperature"
    spec = ConnectorSpec("ua", Protocol.OPCUA, base.options, {path: base.bindings[TEMP]})
    sink = RecordingSink()
    feed = Feed("ua", sink)
    health = ConnectorHealth("ua", system_clock)
    session = Session(spec, feed, health, system_clock, logging.getLogger("test"))

    async def until(condition: Callable[[], object], what: str) -> None:
        for _ in range(400):
            feed.flush()
            if condition():
                return
            await asyncio.sleep(0.025)
        raise AssertionError(f"timed out waiting for {what}")

    async def scenario() -> None:
        connector = PLUGIN.create(spec)
        task = asyncio.create_task(connector.run(session))
        try:
            await until(lambda: sink.values(path), "a value under the path address")
            await connector.write(path, 99.5)
            await until(lambda: 99.5 in sink.values(path), "the written value back")
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    asyncio.run(scenario())
    assert opcua_server.get("Mill01.Temperature") == 99.5
    assert sink.values(path)[0] == 21.5


def test_backpressure_stops_reading_and_loses_nothing(opcua_server: OpcUaTestServer) -> None:
    """While the sink refuses, the connector asks the server for nothing more (changes wait
    in the server's queue of ``queue_size``); once it accepts, every change arrives in order."""
    registry = registry_of(model(opcua_server.url, BINDINGS, "    queue_size: 100\n"))
    base = connector_specs(registry, PLUGINS)["ua"]
    spec = ConnectorSpec("ua", Protocol.OPCUA, base.options, {TEMP: base.bindings[TEMP]})
    sink = RecordingSink()
    feed = Feed("ua", sink, max_points=3)
    session = Session(
        spec, feed, ConnectorHealth("ua", system_clock), system_clock, logging.getLogger("t")
    )

    async def flush_until(condition: Callable[[], object], what: str) -> None:
        for _ in range(400):
            with contextlib.suppress(BackpressureError):
                feed.flush()
            if condition():
                return
            await asyncio.sleep(0.025)
        raise AssertionError(f"timed out waiting for {what}")

    async def write(values: range) -> None:
        for value in values:
            await asyncio.to_thread(opcua_server.set, "Mill01.Temperature", float(value))

    async def scenario() -> None:
        task = asyncio.create_task(PLUGIN.create(spec).run(session))
        try:
            await flush_until(lambda: sink.values(TEMP), "the first value")
            sink.full = True
            await write(range(1, 6))
            await flush_until(lambda: feed.pending >= 3, "rows held under backpressure")
            await asyncio.sleep(0.3)  # let a possible publish land, so the next check is fair
            held = feed.pending
            await write(range(6, 11))
            await asyncio.sleep(0.5)
            assert feed.pending == held  # no more was read while the sink refused
            sink.full = False
            await flush_until(lambda: 10.0 in sink.values(TEMP), "every change after the pause")
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    asyncio.run(scenario())
    assert sink.values(TEMP) == [21.5, *(float(v) for v in range(1, 11))]


def test_browse_path_binding_through_the_model(opcua_server: OpcUaTestServer) -> None:
    path = "path=/Objects/2:Machines/2:Mill01/2:Temperature"
    registry = registry_of(model(opcua_server.url, f"                      temp: {path}\n"))
    assert registry.binding("ua", path).signal.name == "temp"
    with running_host(registry, PLUGINS) as (_, sink):
        wait_for(lambda: sink.values(path), what="a value through the browse path")
    assert sink.values(path)[0] == 21.5

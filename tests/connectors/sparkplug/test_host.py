"""The Sparkplug host against a spec-following edge node on a private Mosquitto."""

from __future__ import annotations

import json
from typing import Any

from omp.connectors.health import LinkState
from omp.core.quality import Quality
from tests.connectors.sparkplug.edge import FLOAT, EdgeNode, MetricSpec, now_ms
from tests.connectors.sparkplug.helpers import (
    DEVICE,
    DEVICE_METRICS,
    GROUP,
    HOST_ID,
    NODE,
    NODE_METRICS,
    NODE_PREFIX,
    PLUGINS,
    PREFIX,
    edge_node,
    model,
    watch_state,
)
from tests.connectors.support import Mosquitto, registry_of, running_host, wait_for


def test_births_and_data_become_values_with_addresses_units_and_types(
    mosquitto: Mosquitto,
) -> None:
    with running_host(registry_of(model(mosquitto.url)), PLUGINS) as (host, sink):
        wait_for(lambda: host.health()["spb"]["state"] == "connected", what="host connected")
        edge = edge_node(mosquitto.port).start()
        try:
            wait_for(lambda: sink.values(PREFIX + "Recipe") == ["A-1"], what="DBIRTH values")
            edge.data(DEVICE, {"Drive/Current": 6500.0, "Count": -4, "Running": False})
            edge.data(DEVICE, {"Recipe": "B-2", "Temp": 0.0, "Small": 5, "Big": 2**63 + 1})
            edge.data(None, {"Supply Voltage": 23.5})
            wait_for(lambda: len(sink.values(NODE_PREFIX + "Supply Voltage")) == 2, what="NDATA")
            wait_for(lambda: len(sink.values(PREFIX + "Big")) == 2, what="DDATA")
        finally:
            edge.stop()
    assert sink.values(PREFIX + "Drive/Current")[:2] == [5500.0, 6500.0]
    assert sink.values(PREFIX + "Temp")[:2] == [20.25, 0.0]  # zero takes the careful path
    assert sink.values(PREFIX + "Count")[:2] == [-3.0, -4.0]  # Int32 two's complement
    assert sink.values(PREFIX + "Small")[:2] == [-7.0, 5.0]  # Int8
    assert sink.values(PREFIX + "Big")[:2] == [float(2**40), float(2**63 + 1)]  # UInt64
    assert sink.values(PREFIX + "Running")[:2] == [1.0, 0.0]
    assert sink.values(PREFIX + "Recipe")[:2] == ["A-1", "B-2"]
    assert sink.values(PREFIX + "Stamp")[:1] == [1_700_000_000_000.0]  # DateTime as a number
    assert sink.values(NODE_PREFIX + "Supply Voltage")[:2] == [24.0, 23.5]
    units = {row.address: row.unit for row in sink.rows}
    assert units[PREFIX + "Drive/Current"] == "mA"
    assert units[PREFIX + "Temp"] == "Cel"  # '°C' from engUnit mapped to UCUM
    assert units[PREFIX + "Speed SP"] == "/min"
    assert units[NODE_PREFIX + "Supply Voltage"] == "V"
    assert units[PREFIX + "Count"] is None
    assert not any(a.endswith("/bdSeq") for a in sink.addresses())  # bookkeeping, not a value
    good = [r for r in sink.rows if r.address == PREFIX + "Count"][:2]
    assert [r.quality for r in good] == [Quality.GOOD, Quality.GOOD]
    assert all(r.ts % 1000 == 0 and r.ts > 1_700_000_000_000_000 for r in good)  # ms -> µs
    assert sink.rejected() == 0


def test_health_follows_edge_nodes_and_devices(mosquitto: Mosquitto) -> None:
    with running_host(registry_of(model(mosquitto.url)), PLUGINS) as (host, _sink):
        wait_for(lambda: host.health()["spb"]["state"] == "connected", what="host connected")
        edge = edge_node(mosquitto.port).start()
        health = host.connector_health("spb")
        node, device = f"{GROUP}/{NODE}", f"{GROUP}/{NODE}/{DEVICE}"
        wait_for(lambda: health.device_state(device) is LinkState.CONNECTED, what="device up")
        assert health.device_state(node) is LinkState.CONNECTED
        edge.data(DEVICE, {"Count": 1})
        wait_for(
            lambda: host.health()["spb"]["devices"][device]["messages"] >= 1,
            what="messages counted per device",
        )
        edge.stop()
        wait_for(lambda: health.device_state(node) is LinkState.LOST, what="node lost")
        assert health.device_state(device) is LinkState.LOST


def test_state_birth_and_death_share_the_will_timestamp_and_gate_primary_edge_nodes(
    mosquitto: Mosquitto,
) -> None:
    with watch_state(mosquitto.port) as watcher:
        edge = edge_node(mosquitto.port, primary_host=HOST_ID).start(wait=False)
        try:
            with running_host(registry_of(model(mosquitto.url)), PLUGINS) as (_host, sink):
                wait_for(lambda: (watcher.last() or {}).get("online") is True, what="STATE birth")
                edge.wait_born()  # the edge node waited for our STATE online
                wait_for(lambda: sink.values(PREFIX + "Recipe") == ["A-1"], what="births")
            wait_for(lambda: (watcher.last() or {}).get("online") is False, what="STATE death")
        finally:
            edge.stop()
    birth, death = watcher.states()[-2:]
    assert birth["timestamp"] == death["timestamp"]
    assert isinstance(birth["timestamp"], int)
    assert birth["timestamp"] > 1_700_000_000_000


def test_write_back_sends_a_dcmd_in_the_metric_datatype(mosquitto: Mosquitto) -> None:
    bindings = """                    bindings:
                      speed_sp: "pack/eol/pal01/Speed SP"
"""
    registry = registry_of(model(mosquitto.url, bindings=bindings))
    with running_host(registry, PLUGINS) as (host, sink):
        wait_for(lambda: host.health()["spb"]["state"] == "connected", what="host connected")
        edge = edge_node(mosquitto.port).start()
        try:
            wait_for(lambda: sink.values(PREFIX + "Speed SP") == [10.0], what="DBIRTH")
            host.write("acme/munich/packaging/eol/cell/pal01/speed_sp", 42.5)
            wait_for(lambda: edge.commands, what="DCMD at the edge node")
        finally:
            edge.stop()
    assert edge.commands == [(f"spBv1.0/{GROUP}/DCMD/{NODE}/{DEVICE}", "Speed SP", 42.5)]


def test_unknown_broker_is_a_lost_link_not_a_crash(mosquitto: Mosquitto) -> None:
    mosquitto.stop()
    with running_host(registry_of(model(mosquitto.url)), PLUGINS) as (host, _sink):
        wait_for(lambda: host.health()["spb"]["restarts"] >= 2, what="retries")
        report = host.health()["spb"]
    mosquitto.start()
    assert report["crashes"] == 0
    assert f"127.0.0.1:{mosquitto.port}" in report["last_error"]


def test_null_values_are_stored_bad_and_transient_metrics_not_at_all(mosquitto: Mosquitto) -> None:

    metrics = (*DEVICE_METRICS, MetricSpec("Debug/Tick", FLOAT, 50, 1.0, transient=True))

    def null_count(payload: Any) -> None:
        metric = payload.metrics.add()
        metric.alias, metric.timestamp, metric.is_null = 12, now_ms(), True
        tick = payload.metrics.add()
        tick.alias, tick.timestamp, tick.float_value = 50, now_ms(), 2.0

    with running_host(registry_of(model(mosquitto.url)), PLUGINS) as (host, sink):
        wait_for(lambda: host.health()["spb"]["state"] == "connected", what="host connected")
        edge = EdgeNode(
            mosquitto.port, GROUP, NODE, node_metrics=NODE_METRICS, devices={DEVICE: metrics}
        ).start()
        try:
            ddata = edge.topic("DDATA", DEVICE)
            edge.publish_raw(ddata, edge.next_seq_payload(null_count))
            wait_for(lambda: len(sink.values(PREFIX + "Count")) == 2, what="the null stored")
        finally:
            edge.stop()
    first_two = [r for r in sink.rows if r.address == PREFIX + "Count"][:2]
    assert [(r.value, r.quality) for r in first_two] == [(-3.0, Quality.GOOD), (-3.0, Quality.BAD)]
    assert PREFIX + "Debug/Tick" not in sink.addresses()
    assert sink.rejected() == 0


def test_groups_limit_the_subscription(mosquitto: Mosquitto) -> None:

    options = "    groups: [pack]"
    with running_host(registry_of(model(mosquitto.url, options=options)), PLUGINS) as (host, sink):
        wait_for(lambda: host.health()["spb"]["state"] == "connected", what="host connected")
        other = EdgeNode(mosquitto.port, "other", NODE, devices={DEVICE: DEVICE_METRICS}).start()
        edge = edge_node(mosquitto.port).start()
        try:
            other.data(DEVICE, {"Count": 1})
            other.flush()
            edge.data(DEVICE, {"Count": 2})
            wait_for(lambda: sink.values(PREFIX + "Count")[-1:] == [2.0], what="pack data")
        finally:
            edge.stop()
            other.stop()
    assert not any(a.startswith("other/") for a in sink.addresses())
    assert other.rebirth_requests == 0  # never seen, never asked


def test_a_foreign_offline_state_is_answered_with_a_new_birth(mosquitto: Mosquitto) -> None:

    registry = registry_of(model(mosquitto.url))
    with watch_state(mosquitto.port) as watcher, running_host(registry, PLUGINS):
        wait_for(lambda: (watcher.last() or {}).get("online") is True, what="STATE birth")
        born = watcher.last()
        edge = edge_node(mosquitto.port)
        edge.start()
        try:
            offline = json.dumps({"online": False, "timestamp": now_ms()}).encode()
            edge.publish_raw(f"spBv1.0/STATE/{HOST_ID}", offline, qos=1)
            wait_for(lambda: len(watcher.states()) >= 3, what="STATE birth again")
        finally:
            edge.stop()
    assert watcher.states()[2] == born | {"retain": False}

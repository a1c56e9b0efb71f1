"""Faults: each keeps the host running, counts the bad input naming its topic, node or
metric, and stores the good data around it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from omp.connectors.health import LinkState
from omp.connectors.host import ConnectorHost
from omp.core.quality import Quality
from omp.core.rejects import RejectReason
from tests.connectors.sparkplug.edge import (
    DATASET,
    TEMPLATE,
    UINT64,
    EdgeNode,
    MetricSpec,
    Payload,
    now_ms,
)
from tests.connectors.sparkplug.helpers import (
    DEVICE,
    DEVICE_METRICS,
    GROUP,
    NODE,
    NODE_METRICS,
    NODE_PREFIX,
    PLUGINS,
    PREFIX,
    edge_node,
    model,
    watch_state,
)
from tests.connectors.support import Mosquitto, RecordingSink, registry_of, running_host, wait_for

DDATA = f"spBv1.0/{GROUP}/DDATA/{NODE}/{DEVICE}"
NODE_NAME = f"{GROUP}/{NODE}"
DEVICE_NAME = f"{GROUP}/{NODE}/{DEVICE}"


@contextmanager
def host_and_edge(
    mosquitto: Mosquitto, **edge_options: Any
) -> Iterator[tuple[ConnectorHost, RecordingSink, EdgeNode]]:
    with running_host(registry_of(model(mosquitto.url)), PLUGINS) as (host, sink):
        wait_for(lambda: host.health()["spb"]["state"] == "connected", what="host connected")
        edge = edge_node(mosquitto.port, **edge_options).start()
        try:
            wait_for(lambda: sink.values(PREFIX + "Recipe") == ["A-1"], what="births stored")
            yield host, sink, edge
        finally:
            edge.stop()


def counts(sink: RecordingSink, reason: RejectReason) -> dict[str, int]:
    with sink.lock:
        return {src: n for (_, src, r), n in sink.rejects.items() if r is reason}


def still_running(host: ConnectorHost) -> None:
    report = host.health()["spb"]
    assert report["state"] == "connected"
    assert report["crashes"] == 0


def test_a_truncated_payload_is_counted_by_topic_and_its_neighbours_are_stored(
    mosquitto: Mosquitto,
) -> None:
    with host_and_edge(mosquitto) as (host, sink, edge):
        edge.data(DEVICE, {"Count": 1})
        whole = edge.data_payload(DEVICE, {"Count": 99, "Temp": 1.5}, seq=0)  # seq not consumed
        edge.publish_raw(DDATA, whole[: len(whole) // 2])
        edge.data(DEVICE, {"Count": 2})
        wait_for(lambda: sink.values(PREFIX + "Count")[-1:] == [2.0], what="data after the fault")
        still_running(host)
    assert sink.values(PREFIX + "Count")[:3] == [-3.0, 1.0, 2.0]
    assert counts(sink, RejectReason.MALFORMED) == {DDATA: 1}
    assert edge.rebirth_requests == 0  # the sequence never broke


def test_a_value_of_the_wrong_datatype_is_counted_naming_the_metric(mosquitto: Mosquitto) -> None:
    def wrong(payload: Any) -> None:
        bad = payload.metrics.add()  # 'Drive/Current' is a Float; a string is wrong
        bad.alias, bad.timestamp, bad.string_value = 10, now_ms(), "oops"
        good = payload.metrics.add()
        good.alias, good.timestamp, good.int_value = 12, now_ms(), 7

    with host_and_edge(mosquitto) as (host, sink, edge):
        edge.publish_raw(DDATA, edge.next_seq_payload(wrong))
        edge.data(DEVICE, {"Drive/Current": 4000.0})
        wait_for(lambda: sink.values(PREFIX + "Drive/Current")[-1:] == [4000.0], what="next DDATA")
        still_running(host)
        device = host.health()["spb"]["devices"][DEVICE_NAME]
    assert counts(sink, RejectReason.WRONG_TYPE) == {f"{DDATA}: metric Drive/Current": 1}
    assert sink.values(PREFIX + "Count")[:2] == [-3.0, 7.0]  # its neighbour was stored
    assert "Drive/Current is Float but carries string_value" in device["last_error"]


def test_templates_and_datasets_are_rejected_as_wrong_type_at_birth(mosquitto: Mosquitto) -> None:

    extra = (MetricSpec("Recipe Table", DATASET, 40, 0), MetricSpec("Motor", TEMPLATE, 41, 0))
    with running_host(registry_of(model(mosquitto.url)), PLUGINS) as (host, sink):
        wait_for(lambda: host.health()["spb"]["state"] == "connected", what="host connected")
        edge = EdgeNode(
            mosquitto.port,
            GROUP,
            NODE,
            node_metrics=NODE_METRICS,
            devices={DEVICE: (*DEVICE_METRICS, *extra)},
        ).start()
        try:
            wait_for(lambda: sink.rejected(RejectReason.WRONG_TYPE) == 2, what="rejected")
            edge.data(DEVICE, {"Count": 5})
            wait_for(lambda: sink.values(PREFIX + "Count")[-1:] == [5.0], what="data flows on")
        finally:
            edge.stop()
    dbirth = f"spBv1.0/{GROUP}/DBIRTH/{NODE}/{DEVICE}"
    assert counts(sink, RejectReason.WRONG_TYPE) == {
        f"{dbirth}: metric Recipe Table": 1,
        f"{dbirth}: metric Motor": 1,
    }
    assert PREFIX + "Motor" not in sink.addresses()


def test_an_alias_missing_from_the_birth_asks_for_a_rebirth(mosquitto: Mosquitto) -> None:
    def unknown(payload: Any) -> None:
        metric = payload.metrics.add()
        metric.alias, metric.timestamp, metric.float_value = 999, now_ms(), 1.0

    with host_and_edge(mosquitto) as (host, sink, edge):
        edge.publish_raw(DDATA, edge.next_seq_payload(unknown))
        wait_for(lambda: edge.rebirth_requests == 1, what="rebirth request at the edge node")
        wait_for(lambda: sink.values(PREFIX + "Recipe") == ["A-1", "A-1"], what="rebirth stored")
        edge.data(DEVICE, {"Count": 3})
        wait_for(lambda: sink.values(PREFIX + "Count")[-1:] == [3.0], what="data after rebirth")
        still_running(host)
    assert counts(sink, RejectReason.UNKNOWN_SIGNAL) == {f"{DDATA}: metric alias 999": 1}


def test_a_sequence_gap_asks_for_a_rebirth_and_keeps_the_data(mosquitto: Mosquitto) -> None:
    with host_and_edge(mosquitto) as (host, sink, edge):
        edge.skip_seq(3)
        edge.data(DEVICE, {"Count": 8})
        wait_for(lambda: edge.rebirth_requests == 1, what="rebirth request")
        wait_for(lambda: sink.values(PREFIX + "Count")[-1:] == [-3.0], what="rebirth values")
        still_running(host)
        node = host.health()["spb"]["devices"][NODE_NAME]
    assert 8.0 in sink.values(PREFIX + "Count")
    assert "sequence gap" in node["last_error"]
    assert "expected 2, got 5" in node["last_error"]


def test_data_before_birth_asks_for_a_rebirth(mosquitto: Mosquitto) -> None:
    edge = edge_node(mosquitto.port).start()  # born before the host subscribes: it missed it
    edge.flush()
    try:
        with running_host(registry_of(model(mosquitto.url)), PLUGINS) as (host, sink):
            wait_for(lambda: host.health()["spb"]["state"] == "connected", what="host connected")
            edge.data(DEVICE, {"Count": 4})
            wait_for(lambda: edge.rebirth_requests == 1, what="rebirth request")
            wait_for(lambda: sink.values(PREFIX + "Recipe") == ["A-1"], what="rebirth stored")
            edge.data(DEVICE, {"Count": 6})
            wait_for(lambda: sink.values(PREFIX + "Count")[-1:] == [6.0], what="data flows")
    finally:
        edge.stop()
    assert counts(sink, RejectReason.UNKNOWN_SIGNAL) == {DDATA: 1}


def test_a_late_ndeath_with_an_old_bdseq_is_ignored(mosquitto: Mosquitto) -> None:
    with host_and_edge(mosquitto, bd_seq=5) as (host, sink, edge):
        late = Payload(timestamp=now_ms())
        metric = late.metrics.add()
        metric.name, metric.datatype, metric.long_value = "bdSeq", UINT64, 4
        edge.publish_raw(f"spBv1.0/{GROUP}/NDEATH/{NODE}", late.SerializeToString(), qos=1)
        wait_for(
            lambda: (
                "old NDEATH" in (host.health()["spb"]["devices"][NODE_NAME]["last_error"] or "")
            ),
            what="late death noted",
        )
        health = host.connector_health("spb")
        assert health.device_state(NODE_NAME) is LinkState.CONNECTED
        edge.data(DEVICE, {"Count": 11})
        wait_for(lambda: sink.values(PREFIX + "Count")[-1:] == [11.0], what="data still stored")
        with sink.lock:
            qualities = {r.quality for r in sink.rows if r.address == PREFIX + "Count"}
    assert qualities == {Quality.GOOD}  # nothing was marked stale


def test_ddeath_and_ndeath_write_last_values_as_stale(mosquitto: Mosquitto) -> None:
    with host_and_edge(mosquitto) as (host, sink, edge):
        edge.data(DEVICE, {"Count": 12, "Recipe": "C-3"})
        wait_for(lambda: sink.values(PREFIX + "Count")[-1:] == [12.0], what="data")
        edge.ddeath(DEVICE)
        health = host.connector_health("spb")
        wait_for(lambda: health.device_state(DEVICE_NAME) is LinkState.LOST, what="device lost")
        edge.data(None, {"Supply Voltage": 23.0})  # the node lives on
        wait_for(lambda: sink.values(NODE_PREFIX + "Supply Voltage")[-1:] == [23.0], what="NDATA")
        assert health.device_state(NODE_NAME) is LinkState.CONNECTED
        edge.stop()  # NDEATH with the birth's bdSeq
        wait_for(lambda: health.device_state(NODE_NAME) is LinkState.LOST, what="node lost")
        wait_for(
            lambda: (
                [r.quality for r in sink.rows if r.address == NODE_PREFIX + "Supply Voltage"][-1]
                == Quality.BAD
            ),
            what="node metrics stale",
        )
    rows = {r.address: r for r in sink.rows}  # the last row per address
    assert (rows[PREFIX + "Count"].value, rows[PREFIX + "Count"].quality) == (12.0, Quality.BAD)
    assert (rows[PREFIX + "Recipe"].value, rows[PREFIX + "Recipe"].quality) == ("C-3", Quality.BAD)
    voltage = rows[NODE_PREFIX + "Supply Voltage"]
    assert (voltage.value, voltage.quality) == (23.0, Quality.BAD)
    stale_count = [r for r in sink.rows if r.address == PREFIX + "Count" and r.quality]
    assert len(stale_count) == 1  # DDEATH marked it; the later NDEATH found the device gone


def test_a_broker_restart_is_survived_with_state_rebirth_and_data(mosquitto: Mosquitto) -> None:
    with watch_state(mosquitto.port) as watcher, host_and_edge(mosquitto) as (host, sink, edge):
        wait_for(lambda: (watcher.last() or {}).get("online") is True, what="STATE birth")
        first_birth = watcher.last()
        mosquitto.restart()
        wait_for(
            lambda: host.connector_health("spb").device_state(DEVICE_NAME) is LinkState.LOST,
            what="stale on losing the broker",
        )

        def flowing() -> bool:
            edge.data(DEVICE, {"Count": 21})
            return 21.0 in sink.values(PREFIX + "Count")

        wait_for(flowing, timeout=20, what="data after the restart")
        wait_for(
            lambda: any(
                s["online"] and s["timestamp"] != first_birth["timestamp"]  # type: ignore[index]
                for s in watcher.states()
            ),
            what="a new STATE birth",
        )
        still_running(host)
        assert host.health()["spb"]["restarts"] >= 1
    assert edge.bd_seq >= 1  # the edge node's new MQTT session got the next bdSeq
    stale = [r for r in sink.rows if r.address == PREFIX + "Count" and r.quality == Quality.BAD]
    assert stale, "the host marks signals stale when it loses the broker"


def test_an_edge_node_that_vanishes_is_declared_dead_by_its_will(mosquitto: Mosquitto) -> None:
    with running_host(registry_of(model(mosquitto.url)), PLUGINS) as (host, sink):
        wait_for(lambda: host.health()["spb"]["state"] == "connected", what="host connected")
        edge = edge_node(mosquitto.port).start()
        edge.data(DEVICE, {"Count": 41})
        wait_for(lambda: sink.values(PREFIX + "Count")[-1:] == [41.0], what="data")
        edge.crash()
        health = host.connector_health("spb")
        wait_for(lambda: health.device_state(NODE_NAME) is LinkState.LOST, what="the will")
        wait_for(
            lambda: (
                [r.quality for r in sink.rows if r.address == PREFIX + "Count"][-1:]
                == [Quality.BAD]
            ),
            what="stale",
        )
    assert sink.values(PREFIX + "Count")[-1] == 41.0
    last_error = health.snapshot()["devices"][NODE_NAME]["last_error"]
    assert last_error.startswith("NDEATH on")  # the will matched the birth's bdSeq

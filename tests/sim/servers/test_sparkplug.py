"""The simulator's Sparkplug B edge nodes, checked on the wire by an independent paho
subscriber decoding with the protobuf schema: birth, data and death rules, rebirth,
reconnects, determinism, and the model section binding every signal."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from omp.connectors.sparkplug import PLUGIN
from omp.connectors.sparkplug.options import SparkplugOptions
from omp.core.wire.sparkplug_b_pb2 import Payload
from omp.model.kinds import Protocol
from omp.sim.catalog import SignalKind
from omp.sim.plant import MachineSpec, Plant, Served, build_plant
from omp.sim.servers.base import Endpoints, served_by
from omp.sim.servers.sparkplug import CONNECTOR, SparkplugEdges, model_section
from tests.connectors.support import Mosquitto, free_port, registry_of, running_host, wait_for
from tests.sim.servers import T0, KillableProxy, Recorder, frame, model_yaml, until

# Sparkplug B datatype numbers, from the specification (not from the module under test).
INT32, UINT32, UINT64, DOUBLE, BOOLEAN, STRING = 3, 7, 8, 10, 11, 12
EXPECTED_TYPE = {SignalKind.STATE: INT32, SignalKind.COUNTER: UINT32, SignalKind.TEXT: STRING}

PLANT = build_plant(26)
SPB = served_by(PLANT, Served.SPARKPLUG)


def edges(url: str, **options: object) -> SparkplugEdges:
    return SparkplugEdges(
        PLANT, Endpoints(mqtt_url=url), client_prefix="t", reconnect_max=0.3, **options
    )  # type: ignore[arg-type]


def decode(messages: list[tuple[str, bytes]]) -> list[tuple[list[str], Payload]]:
    out = []
    for topic, raw in messages:
        if "/STATE/" in topic:
            continue  # JSON, not protobuf
        payload = Payload()
        payload.ParseFromString(raw)
        out.append((topic.split("/"), payload))
    return out


EDGE_VERBS = {"NBIRTH", "NDEATH", "DBIRTH", "DDATA"}


def of_node(messages: list[tuple[str, bytes]], node: str) -> list[tuple[list[str], Payload]]:
    """What the edge node published (commands sent to it left out)."""
    return [(t, p) for t, p in decode(messages) if t[2] in EDGE_VERBS and t[3] == node]


def verb_count(recorder: Recorder, verb: str) -> int:
    return sum(1 for topic, _ in recorder.taken() if f"/{verb}/" in topic)


def bd_seq(payload: Payload) -> int:
    (metric,) = [m for m in payload.metrics if m.name == "bdSeq"]
    assert metric.datatype == UINT64
    return int(metric.long_value)


def check_rules(stream: list[tuple[list[str], Payload]]) -> None:
    """NBIRTH first with seq 0; seq +1 mod 256 across the node; DDATA after its DBIRTH,
    by aliases the DBIRTH defined, aliases unique across the node."""
    assert stream, "no messages from the edge node"
    assert stream[0][0][2] == "NBIRTH"
    expected = 0
    births: dict[str, set[int]] = {}
    for levels, payload in stream:
        verb = levels[2]
        if verb == "NDEATH":
            assert not payload.HasField("seq")
            continue
        if verb == "NBIRTH":
            assert payload.seq == 0
            expected, births = 0, {}
        assert payload.seq == expected, f"{'/'.join(levels)}: seq {payload.seq} != {expected}"
        expected = (expected + 1) % 256
        if verb == "DBIRTH":
            aliases = {m.alias for m in payload.metrics}
            assert not aliases & set().union(*births.values()), "aliases must be node-unique"
            births[levels[4]] = aliases
        elif verb == "DDATA":
            assert levels[4] in births, "DDATA before its DBIRTH"
            assert {m.alias for m in payload.metrics} <= births[levels[4]]
            assert all(not m.name for m in payload.metrics), "DDATA goes by alias only"


def value_of(metric: Payload.Metric, datatype: int) -> object:
    if datatype == DOUBLE:
        return metric.double_value
    if datatype in (INT32, UINT32):
        return metric.int_value
    return metric.string_value


def test_births_then_data_by_exception(broker: Mosquitto) -> None:
    recorder = Recorder(broker.port, "spBv1.0/#")
    still = frozenset({"product", "air_pressure"})

    async def scenario() -> None:
        output = edges(broker.url)
        await output.start()
        assert output.online
        for tick in range(3):
            output.publish(frame(PLANT, tick, still=still))
        output.publish(frame(PLANT, 2, still=still))  # the same values again: nothing to send
        await until(lambda: verb_count(recorder, "DDATA") >= 2 * len(SPB), what="DDATA")
        await output.stop()
        await until(lambda: verb_count(recorder, "NDEATH") == 2, what="NDEATH on stop")

    asyncio.run(scenario())
    recorder.close()
    nodes = {f"{m.area}_{m.line}" for m in SPB}
    assert len(nodes) == 2
    for node in nodes:
        stream = of_node(recorder.taken(), node)
        check_rules(stream)
        levels, nbirth = stream[0]
        assert levels[1] in {"munich", "austin"}
        assert bd_seq(nbirth) == 0
        assert nbirth.timestamp == T0 // 1000 + 250
        (rebirth,) = [m for m in nbirth.metrics if m.name == "Node Control/Rebirth"]
        assert rebirth.datatype == BOOLEAN
        assert rebirth.boolean_value is False
        assert stream[-1][0][2] == "NDEATH"
        assert bd_seq(stream[-1][1]) == 0
        machines = [m for m in SPB if f"{m.area}_{m.line}" == node]
        dbirths = {lv[4]: p for lv, p in stream if lv[2] == "DBIRTH"}
        assert set(dbirths) == {m.name for m in machines}
        for machine in machines:
            check_device(machine, dbirths[machine.name], stream, still)


def check_device(
    machine: MachineSpec,
    dbirth: Payload,
    stream: list[tuple[list[str], Payload]],
    still: frozenset[str],
) -> None:
    first = frame(PLANT, 0, still=still).values[machine.index]
    types: dict[int, int] = {}
    names: dict[int, str] = {}
    for signal, metric, value in zip(machine.kind.signals, dbirth.metrics, first, strict=True):
        assert metric.name == signal.name
        assert metric.datatype == EXPECTED_TYPE.get(signal.kind, DOUBLE)
        assert metric.timestamp == T0 // 1000 + 250
        assert value_of(metric, metric.datatype) == value
        units = dict(zip(metric.properties.keys, metric.properties.values, strict=True))
        if signal.unit is None:
            assert "engUnit" not in units
        else:
            assert units["engUnit"].type == STRING
            assert units["engUnit"].string_value == signal.unit
        types[metric.alias], names[metric.alias] = metric.datatype, signal.name
    data = [p for lv, p in stream if lv[2] == "DDATA" and lv[4] == machine.name]
    assert len(data) == 2, "ticks 1 and 2 change values; the repeat of tick 2 sends nothing"
    for tick, payload in enumerate(data, 1):
        values = dict(
            zip(machine.kind.signal_names, frame(PLANT, tick).values[machine.index], strict=True)
        )
        sent = {names[m.alias]: value_of(m, types[m.alias]) for m in payload.metrics}
        assert set(sent) == set(values) - still, "only changed metrics (report by exception)"
        assert sent == {name: values[name] for name in sent}
        stamp = (T0 + tick * 1_000_000 + 250_000) // 1000
        assert payload.timestamp == stamp
        assert {m.timestamp for m in payload.metrics} == {stamp}


def test_seq_counts_every_message_and_wraps_at_256(broker: Mosquitto) -> None:
    recorder = Recorder(broker.port, "spBv1.0/#")
    ticks = 70  # 4 devices x 70 DDATA + 5 births per node: past 255

    async def scenario() -> None:
        output = edges(broker.url)
        await output.start()
        for tick in range(ticks):
            output.publish(frame(PLANT, tick))
        await until(lambda: verb_count(recorder, "DDATA") >= 2 * 4 * (ticks - 1), what="DDATA")
        await output.stop()

    asyncio.run(scenario())
    recorder.close()
    for node in {f"{m.area}_{m.line}" for m in SPB}:
        stream = of_node(recorder.taken(), node)
        check_rules(stream)
        seqs = [p.seq for lv, p in stream if lv[2] != "NDEATH"]
        assert len(seqs) == 5 + 4 * (ticks - 1)
        assert seqs.count(0) == 2


def test_ncmd_rebirth_repeats_births_with_the_same_bdseq(broker: Mosquitto) -> None:
    recorder = Recorder(broker.port, "spBv1.0/#")
    target = SPB[0]
    node = f"{target.area}_{target.line}"

    async def scenario() -> None:
        output = edges(broker.url)
        await output.start()
        output.publish(frame(PLANT, 0))
        output.publish(frame(PLANT, 1))
        await until(lambda: verb_count(recorder, "DDATA") >= len(SPB), what="DDATA")
        command = Payload()
        command.metrics.add(name="Node Control/Rebirth", datatype=BOOLEAN, boolean_value=True)
        recorder.publish(f"spBv1.0/{target.site}/NCMD/{node}", command.SerializeToString())
        await until(lambda: verb_count(recorder, "NBIRTH") >= 3, what="the rebirth")
        output.publish(frame(PLANT, 2))
        await until(lambda: verb_count(recorder, "DDATA") >= 2 * len(SPB), what="more DDATA")
        assert [n.births for n in output.nodes] == [2, 1] or [n.births for n in output.nodes] == [
            1,
            2,
        ]
        await output.stop()

    asyncio.run(scenario())
    recorder.close()
    stream = of_node(recorder.taken(), node)
    check_rules(stream)
    births = [p for lv, p in stream if lv[2] == "NBIRTH"]
    assert [bd_seq(p) for p in births] == [0, 0]
    # The rebirth carries the latest values (tick 1), before tick 2's DDATA.
    verbs = [lv[2] for lv, _ in stream]
    second = verbs.index("NBIRTH", 1)
    assert verbs[second : second + 6] == ["NBIRTH", *["DBIRTH"] * 4, "DDATA"]
    dbirth = stream[second + 1][1]
    assert dbirth.metrics[0].timestamp == (T0 + 1_250_000) // 1000


def test_a_killed_connection_sends_ndeath_then_births_with_the_next_bdseq(
    broker: Mosquitto,
) -> None:
    recorder = Recorder(broker.port, "spBv1.0/#")

    async def scenario() -> None:
        proxy = KillableProxy(broker.port)
        await proxy.start()
        output = edges(f"mqtt://127.0.0.1:{proxy.port}")
        await output.start()
        output.publish(frame(PLANT, 0))
        await until(lambda: verb_count(recorder, "DBIRTH") >= len(SPB), what="births")
        proxy.kill()  # no DISCONNECT: the broker must publish each will
        await until(lambda: verb_count(recorder, "NDEATH") >= 2, what="NDEATH wills")
        await until(lambda: verb_count(recorder, "NBIRTH") >= 4, what="births again")
        assert all(n.bd_seq == 1 for n in output.nodes)
        output.publish(frame(PLANT, 1))
        await until(lambda: verb_count(recorder, "DDATA") >= len(SPB), what="DDATA")
        await output.stop()
        await until(lambda: verb_count(recorder, "NDEATH") >= 4, what="NDEATH on stop")
        await proxy.stop()

    asyncio.run(scenario())
    recorder.close()
    for node in {f"{m.area}_{m.line}" for m in SPB}:
        stream = of_node(recorder.taken(), node)
        check_rules(stream)
        lifecycle = [(lv[2], bd_seq(p)) for lv, p in stream if lv[2] in ("NBIRTH", "NDEATH")]
        assert lifecycle == [("NBIRTH", 0), ("NDEATH", 0), ("NBIRTH", 1), ("NDEATH", 1)]


def state(online: bool, stamp: int) -> bytes:
    return json.dumps({"online": online, "timestamp": stamp}).encode()


def test_primary_host_state_gates_births_across_a_broker_restart(broker: Mosquitto) -> None:
    recorder = Recorder(broker.port, "spBv1.0/#")
    host = "spBv1.0/STATE/scada"

    async def scenario() -> None:
        output = edges(broker.url, primary_host="scada")
        await output.start()
        output.publish(frame(PLANT, 0))
        await asyncio.sleep(0.3)
        assert verb_count(recorder, "NBIRTH") == 0, "no births before the host is online"
        recorder.publish(host, state(True, 1000))
        await until(lambda: verb_count(recorder, "NBIRTH") == 2, what="births")
        # The host goes offline: NDEATH, disconnect, and back in a new session (bdSeq 1).
        recorder.publish(host, state(False, 2000))
        await until(lambda: verb_count(recorder, "NDEATH") == 2, what="NDEATH")
        await until(lambda: all(n.bd_seq == 1 and n.link.online for n in output.nodes))
        recorder.publish(host, state(True, 3000))
        await until(lambda: verb_count(recorder, "NBIRTH") == 4, what="births (bdSeq 1)")
        # The broker restarts: publish() keeps working; births wait for the host again.
        connects = recorder.connects
        await asyncio.to_thread(broker.stop)
        output.publish(frame(PLANT, 1))
        await asyncio.to_thread(broker.start)
        await until(lambda: recorder.connects > connects and output.online, what="reconnects")
        assert all(n.bd_seq == 2 for n in output.nodes)
        recorder.publish(host, state(True, 4000))
        await until(lambda: verb_count(recorder, "NBIRTH") == 6, what="births (bdSeq 2)")
        await output.stop()

    asyncio.run(scenario())
    recorder.close()
    stream = of_node(recorder.taken(), f"{SPB[0].area}_{SPB[0].line}")
    lifecycle = [(lv[2], bd_seq(p)) for lv, p in stream if lv[2] in ("NBIRTH", "NDEATH")]
    assert [n for verb, n in lifecycle if verb == "NBIRTH"] == [0, 1, 2]
    assert lifecycle[:2] == [("NBIRTH", 0), ("NDEATH", 0)], "the host's offline STATE"
    # Whether the broker's shutdown delivers the will is the broker's business; if it
    # does, it names the session that ended.
    for (verb, number), (_, before) in zip(lifecycle[1:], lifecycle, strict=False):
        assert verb == "NBIRTH" or number == before
    last_births = [p for lv, p in stream if lv[2] == "DBIRTH"][-1]
    assert last_births.timestamp == (T0 + 1_250_000) // 1000, "births carry the latest frame"


def test_publish_never_raises_without_a_broker_and_births_when_it_comes(tmp_path: Path) -> None:
    port = free_port()
    broker = Mosquitto(tmp_path, port)

    async def scenario() -> Recorder:
        output = edges(broker.url, connect_wait=0.2)
        await output.start()
        assert not output.online
        for tick in range(5):
            output.publish(frame(PLANT, tick))
        await asyncio.to_thread(broker.start)
        recorder = Recorder(port, "spBv1.0/#")
        await until(lambda: recorder.connects == 1, what="the recorder")
        await until(lambda: output.online, what="the edge nodes")
        # Whether births came before the recorder subscribed or not, a rebirth shows them.
        for node in output.nodes:
            command = Payload()
            command.metrics.add(name="Node Control/Rebirth", datatype=BOOLEAN, boolean_value=True)
            recorder.publish(f"spBv1.0/{node.group}/NCMD/{node.node}", command.SerializeToString())
        await until(lambda: verb_count(recorder, "DBIRTH") >= len(SPB), what="births")
        await output.stop()
        return recorder

    try:
        recorder = asyncio.run(scenario())
        recorder.close()
    finally:
        broker.stop()
    dbirths = [p for lv, p in decode(recorder.taken()) if lv[2] == "DBIRTH"]
    assert {p.timestamp for p in dbirths} == {(T0 + 4_250_000) // 1000}, "the latest frame"


def run_once(url: str, recorder: Recorder, prefix: str) -> list[tuple[str, bytes]]:
    async def scenario() -> None:
        output = SparkplugEdges(PLANT, Endpoints(mqtt_url=url), client_prefix=prefix)
        await output.start()
        for tick in range(4):
            output.publish(frame(PLANT, tick, still=frozenset({"product"})))
        await until(lambda: verb_count(recorder, "DDATA") >= 3 * len(SPB), what="DDATA")
        await output.stop()
        await until(lambda: verb_count(recorder, "NDEATH") >= 2, what="NDEATH")

    recorder.clear()
    asyncio.run(scenario())
    return [(t, p) for t, p in recorder.taken() if "/NDEATH/" not in t]


def test_identical_frames_give_byte_identical_payloads(broker: Mosquitto) -> None:
    recorder = Recorder(broker.port, "spBv1.0/#")
    first = run_once(broker.url, recorder, "a")
    second = run_once(broker.url, recorder, "b")
    recorder.close()

    def key(messages: list[tuple[str, bytes]]) -> dict[str, list[bytes]]:
        # The two nodes interleave differently; each topic's messages keep their order.
        by_topic: dict[str, list[bytes]] = {}
        for topic, payload in messages:
            by_topic.setdefault(topic, []).append(payload)
        return by_topic

    assert len(first) == 2 + len(SPB) * 4
    assert key(first) == key(second)


def test_model_section_binds_every_signal_of_every_sparkplug_machine() -> None:
    plant = build_plant(60)
    section = model_section(plant, Endpoints(mqtt_url="mqtt://127.0.0.1:1883"))
    options = dict(section.connectors[CONNECTOR])
    assert options.pop("protocol") == "sparkplug"
    options.pop("description")
    SparkplugOptions.model_validate(options)  # the connector accepts its options
    registry = registry_of(model_yaml(plant, section))
    served = served_by(plant, Served.SPARKPLUG)
    assert set(section.bindings) == {m.index for m in served}
    for machine in served:
        for signal in machine.kind.signals:
            address = f"{machine.site}/{machine.area}_{machine.line}/{machine.name}/{signal.name}"
            binding = registry.resolve(CONNECTOR, address)
            assert binding is not None, address
            assert binding.signal.path == f"{plant.enterprise}/{machine.path}/{signal.name}"


def test_the_platform_connector_ingests_every_signal(broker: Mosquitto) -> None:
    """The omp Sparkplug host, bound by the model section, resolves all it receives."""
    plant: Plant = PLANT
    section = model_section(plant, Endpoints(mqtt_url=broker.url))
    registry = registry_of(model_yaml(plant, section))
    expected = {
        address for _, addresses in section.bindings.values() for address in addresses.values()
    }
    with running_host(registry, {Protocol.SPARKPLUG: PLUGIN}) as (_host, sink):

        async def scenario() -> None:
            output = edges(broker.url)
            await output.start()
            for tick in range(3):
                output.publish(frame(plant, tick))
                await asyncio.sleep(0.3)
            await until(lambda: expected <= sink.addresses(), 15, "every address")
            await output.stop()

        asyncio.run(scenario())
        wait_for(lambda: sink.addresses() >= expected, what="rows")
    assert sink.rejected() == 0
    for address in expected:
        assert registry.resolve(CONNECTOR, address) is not None
    machine = SPB[0]
    temp = f"{machine.site}/{machine.area}_{machine.line}/{machine.name}/power"
    assert sink.values(temp)[-1] == frame(plant, 2).values[machine.index][5]

"""The simulator's MQTT JSON gateways, checked by an independent paho subscriber: topics,
payloads and timestamps, determinism, reconnects, and the platform's MQTT connector
binding every signal through the model section's one mapping rule."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path

from omp.connectors.mqtt import PLUGIN
from omp.connectors.mqtt.options import MqttJsonOptions
from omp.model.kinds import Protocol
from omp.sim.plant import Served, build_plant
from omp.sim.servers.base import Endpoints, served_by
from omp.sim.servers.mqtt_json import CONNECTOR, MqttJsonPublishers, model_section
from tests.connectors.support import Mosquitto, free_port, registry_of, running_host, wait_for
from tests.sim.servers import T0, Recorder, frame, model_yaml, until

PLANT = build_plant(26)
SERVED = served_by(PLANT, Served.MQTT)


def publishers(url: str, **options: object) -> MqttJsonPublishers:
    settings: dict[str, object] = {"client_prefix": "t", "reconnect_max": 0.3, **options}
    return MqttJsonPublishers(PLANT, Endpoints(mqtt_url=url), **settings)  # type: ignore[arg-type]


def run_ticks(url: str, recorder: Recorder, ticks: int, **options: object) -> None:
    async def scenario() -> None:
        output = publishers(url, **options)
        await output.start()
        for tick in range(ticks):
            output.publish(frame(PLANT, tick))
        await until(lambda: len(recorder.taken()) >= ticks * len(SERVED), what="messages")
        await output.stop()

    asyncio.run(scenario())


def test_one_message_per_machine_and_tick_with_every_value(broker: Mosquitto) -> None:
    recorder = Recorder(broker.port, f"{PLANT.enterprise}/#")
    run_ticks(broker.url, recorder, 2)
    recorder.close()
    messages = recorder.taken()
    assert len(messages) == 2 * len(SERVED) == 8
    by_topic: dict[str, list[dict[str, object]]] = {}
    for topic, raw in messages:
        by_topic.setdefault(topic, []).append(json.loads(raw))
    assert set(by_topic) == {f"{PLANT.enterprise}/{m.path}" for m in SERVED}
    for machine in SERVED:
        bodies = by_topic[f"{PLANT.enterprise}/{machine.path}"]
        for tick, body in enumerate(bodies):
            stamp = datetime.fromisoformat(str(body.pop("ts")))
            assert stamp.utcoffset() is not None
            assert stamp.utcoffset().total_seconds() == 0
            assert int(stamp.timestamp() * 1_000_000) == T0 + tick * 1_000_000 + 250_000
            values = dict(
                zip(
                    machine.kind.signal_names, frame(PLANT, tick).values[machine.index], strict=True
                )
            )
            assert body == values
            assert type(body["state"]) is int
            assert type(body["current_order"]) is str


def test_identical_frames_give_byte_identical_payloads(broker: Mosquitto) -> None:
    recorder = Recorder(broker.port, f"{PLANT.enterprise}/#")
    run_ticks(broker.url, recorder, 3, client_prefix="a")
    first = sorted(recorder.taken())
    recorder.clear()
    run_ticks(broker.url, recorder, 3, client_prefix="b")
    recorder.close()
    assert len(first) == 3 * len(SERVED)
    assert sorted(recorder.taken()) == first


def test_publishers_ride_out_a_broker_restart_and_never_raise(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path, free_port())

    async def scenario() -> list[tuple[str, bytes]]:
        output = publishers(broker.url, connect_wait=0.2, qos=1)
        await output.start()
        assert not output.online
        output.publish(frame(PLANT, 0))  # no broker yet: dropped, counted, no exception
        assert sum(g.link.dropped for g in output.gateways) == len(SERVED)
        await asyncio.to_thread(broker.start)
        await until(lambda: output.online, what="connected")
        recorder = Recorder(broker.port, f"{PLANT.enterprise}/#")
        await until(lambda: recorder.connects == 1, what="the recorder")
        output.publish(frame(PLANT, 1))
        await until(lambda: len(recorder.taken()) == len(SERVED), what="tick 1")
        await asyncio.to_thread(broker.restart)
        output.publish(frame(PLANT, 2))  # while the links notice the loss
        await until(lambda: output.online and recorder.connects == 2, what="reconnected")
        output.publish(frame(PLANT, 3))
        await until(lambda: len(recorder.taken()) >= 2 * len(SERVED), what="tick 3")
        await output.stop()
        recorder.close()
        return recorder.taken()

    try:
        messages = asyncio.run(scenario())
    finally:
        broker.stop()
    stamps = {json.loads(raw)["ts"] for _, raw in messages}
    assert "2026-03-01T07:00:03.250000Z" in stamps
    assert "2026-03-01T07:00:01.250000Z" in stamps


def test_model_section_binds_every_signal_with_one_rule() -> None:
    plant = build_plant(60)
    section = model_section(plant, Endpoints(mqtt_url="mqtt://127.0.0.1:1883"))
    options = dict(section.connectors[CONNECTOR])
    rules = options.pop("map")
    assert len(rules) == 1
    assert options.pop("protocol") == "mqtt"
    options.pop("description")
    MqttJsonOptions.model_validate(options)  # the connector accepts its options
    registry = registry_of(model_yaml(plant, section))
    served = served_by(plant, Served.MQTT)
    assert section.bindings == {m.index: (CONNECTOR, {}) for m in served}
    for machine in served:
        for signal in machine.kind.signal_names:
            path = f"{plant.enterprise}/{machine.path}/{signal}"
            binding = registry.resolve(CONNECTOR, path)  # address: <topic>/<field>
            assert binding is not None
            assert binding.signal.path == path


def test_the_platform_connector_ingests_every_signal(broker: Mosquitto) -> None:
    section = model_section(PLANT, Endpoints(mqtt_url=broker.url))
    registry = registry_of(model_yaml(PLANT, section))
    expected = {
        f"{PLANT.enterprise}/{m.path}/{name}" for m in SERVED for name in m.kind.signal_names
    }
    with running_host(registry, {Protocol.MQTT: PLUGIN}) as (host, sink):
        wait_for(lambda: host.health()[CONNECTOR]["state"] == "connected", what="the connector")

        async def scenario() -> None:
            output = publishers(broker.url)
            await output.start()
            # QoS 0: ticks sent before the connector's subscription is granted are lost.
            for tick in range(100):
                output.publish(frame(PLANT, tick))
                await asyncio.sleep(0.1)
                if expected <= sink.addresses():
                    break
            await output.stop()

        asyncio.run(scenario())
    assert expected <= sink.addresses()
    assert sink.rejected() == 0
    machine = SERVED[0]
    rows = [row for row in sink.rows if row.address == f"{PLANT.enterprise}/{machine.path}/state"]
    assert rows
    for row in rows:
        tick, rest = divmod(row.ts - T0, 1_000_000)
        assert rest == 250_000
        assert row.value == float(frame(PLANT, tick).values[machine.index][0])

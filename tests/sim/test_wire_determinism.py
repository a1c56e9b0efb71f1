"""The same seed gives byte-identical streams on the wire, not only identical frames.

A seeded simulation drives the Sparkplug B edge nodes and the MQTT JSON gateways into a real
Mosquitto; an independent paho subscriber records every payload. Two runs with one seed give
the same bytes per topic, in the same order; another seed does not.
"""

from __future__ import annotations

import asyncio

from omp.core.time import parse_rfc3339
from omp.sim.engine import Simulation
from omp.sim.plant import build_plant
from omp.sim.servers.base import Endpoints
from omp.sim.servers.mqtt_json import MqttJsonPublishers
from omp.sim.servers.sparkplug import SparkplugEdges
from tests.connectors.support import Mosquitto
from tests.sim.servers import Recorder, until

PLANT = build_plant(26)
START = parse_rfc3339("2026-03-02T05:00:00Z")  # Monday, both sites' shifts running
TICKS = 30


async def settled(recorder: Recorder, quiet: float = 0.5, timeout: float = 20.0) -> None:
    """Until nothing new arrived for ``quiet`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    seen = -1
    while len(recorder.taken()) != seen:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the publishers never went quiet")
        seen = len(recorder.taken())
        await asyncio.sleep(quiet)


def record(broker: Mosquitto, seed: int, prefix: str) -> dict[str, list[bytes]]:
    """Every payload a seeded run published, by topic, in order (deaths left out)."""
    recorder = Recorder(broker.port, "#")

    async def scenario() -> None:
        endpoints = Endpoints(mqtt_url=broker.url)
        outputs = [
            SparkplugEdges(PLANT, endpoints, client_prefix=prefix),
            MqttJsonPublishers(PLANT, endpoints, client_prefix=prefix),
        ]
        for output in outputs:
            await output.start()
        simulation = Simulation(PLANT, seed=seed, start=START)
        for _ in range(TICKS):
            frame = simulation.step()
            for output in outputs:
                output.publish(frame)
        json_messages = TICKS * 4  # one per machine and tick, 4 machines on MQTT JSON
        await until(
            lambda: sum(1 for t, _ in recorder.taken() if t.startswith("acme/")) >= json_messages,
            timeout=20,
            what="every JSON message",
        )
        await settled(recorder)  # the Sparkplug messages of the last ticks
        for output in outputs:
            await output.stop()

    try:
        asyncio.run(scenario())
        by_topic: dict[str, list[bytes]] = {}
        for topic, payload in recorder.taken():
            if "/NDEATH/" not in topic and "/STATE/" not in topic:
                by_topic.setdefault(topic, []).append(payload)
        return by_topic
    finally:
        recorder.close()


def test_one_seed_gives_the_same_bytes_on_every_topic(broker: Mosquitto) -> None:
    first = record(broker, seed=11, prefix="a")
    second = record(broker, seed=11, prefix="b")
    assert any(t.startswith("spBv1.0/") and "/DDATA/" in t for t in first)
    assert any(t.startswith("acme/") for t in first)
    assert first == second


def test_another_seed_gives_other_bytes(broker: Mosquitto) -> None:
    first = record(broker, seed=11, prefix="a")
    other = record(broker, seed=12, prefix="b")
    assert first.keys() == other.keys()
    assert first != other

"""MQTT JSON connector throughput: omp into the historian against a bare gmqtt subscriber.

A private Mosquitto holds a persistent session for each subscriber; a
separate publisher process (paho) fills both sessions' queues with N
one-reading JSON messages (``{"ts": <epoch ms>, "value": <float>}`` on one
topic per signal). Then, in the same run, each subscriber drains its queue
as fast as it can, timed from connect to the last value:

- reference: a bare gmqtt client that decodes every payload with orjson and
  stores nothing (gmqtt's default optimistic acknowledgement);
- omp: the MQTT JSON connector under the real connector host, mapping rule
  to signals, into the real Ingest and the Historian on embedded DuckDB,
  timed until the historian has flushed every point (committed).

QoS 0 is the throughput figure (the broker queues QoS 0 for the offline
session because of ``queue_qos0_messages``); QoS 1 adds omp's
acknowledge-after-submit (PUBACK after ingest accepted the values).

    python bench/mqtt_json.py --messages 500000 --signals 100
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import gmqtt
import orjson

from omp.bus import Bus
from omp.connectors.backoff import Backoff
from omp.connectors.host import ConnectorHost
from omp.connectors.mqtt import PLUGIN
from omp.historian.backends.duckdb import DuckDBBackend
from omp.historian.service import Historian
from omp.ingest import Ingest
from omp.model import compile_model, parse_model
from omp.model.kinds import Protocol

from common import Result, report

T0_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
FILTER = "bench/+/+"
SESSION_EXPIRY = 3600


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Broker:
    """A private Mosquitto that queues without limit for offline persistent sessions."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        config = workdir / "mosquitto.conf"
        config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "max_queued_messages 0\nmax_queued_bytes 0\nmax_inflight_messages 0\n"
            "queue_qos0_messages true\n"
        )
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self._process = subprocess.Popen(
            [binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("mosquitto did not start")

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(10)


def publish(port: int, qos: int, messages: int, signals: int) -> None:
    """The publisher process: N one-reading messages, each timestamp unique per signal."""
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-publisher")
    client.max_queued_messages_set(0)
    client.max_inflight_messages_set(2000)
    client.connect("127.0.0.1", port)
    client.loop_start()
    topics = [f"bench/rack/s{i:04d}" for i in range(signals)]
    pending = []
    for i in range(messages):
        payload = b'{"ts":%d,"value":%.2f}' % (T0_MS + i, 20 + (i % 1000) / 100)
        pending.append(client.publish(topics[i % signals], payload, qos=qos))
        # Bound what is unacknowledged: paho's packet ids wrap at 65535, and its
        # bookkeeping slows down with a long queue.
        if len(pending) == 2_000:
            pending.pop().wait_for_publish(600)
            pending.clear()
    for info in pending[-1:]:
        info.wait_for_publish(600)
    client.disconnect()
    client.loop_stop()


def fill_queues(port: int, qos: int, messages: int, signals: int, client_ids: list[str]) -> float:
    """Create each subscriber's session, then publish from another process; returns s taken."""

    async def make_sessions() -> None:
        for client_id in client_ids:
            client = gmqtt.Client(
                client_id, clean_session=False, session_expiry_interval=SESSION_EXPIRY
            )
            await client.connect("127.0.0.1", port)
            client.subscribe(FILTER, qos=qos)
            await asyncio.sleep(0.2)
            await client.disconnect()

    asyncio.run(make_sessions())
    t0 = time.perf_counter()
    process = multiprocessing.get_context("spawn").Process(
        target=publish, args=(port, qos, messages, signals)
    )
    process.start()
    process.join()
    if process.exitcode != 0:
        raise SystemExit(f"publisher failed with exit code {process.exitcode}")
    time.sleep(1.0)  # let the broker finish routing the last messages into the queues
    return time.perf_counter() - t0


def bare_gmqtt(port: int, qos: int, messages: int, client_id: str, *, late_ack: bool) -> float:
    """Points/s of a gmqtt subscriber that decodes with orjson and keeps nothing.

    ``late_ack``: acknowledge when a coroutine per message returns (gmqtt's only way to
    acknowledge after handling, as omp does); else gmqtt's optimistic acknowledgement.
    """

    async def drain() -> float:
        done = asyncio.Event()
        count = 0
        total = 0.0

        def on_message(client: object, topic: str, payload: bytes, qos: int, props: object) -> None:
            nonlocal count, total
            document = orjson.loads(payload)
            total += document["value"]
            count += 1
            if count == messages:
                done.set()

        async def on_message_late(
            client: object, topic: str, payload: bytes, qos: int, props: object
        ) -> int:
            on_message(client, topic, payload, qos, props)
            return 0

        client = gmqtt.Client(
            client_id,
            clean_session=False,
            session_expiry_interval=3600,
            optimistic_acknowledgement=not late_ack,
        )
        client.on_message = on_message_late if late_ack else on_message
        t0 = time.perf_counter()
        await client.connect("127.0.0.1", port)
        await asyncio.wait_for(done.wait(), 600)
        elapsed = time.perf_counter() - t0
        await client.disconnect()
        return messages / elapsed

    return asyncio.run(drain())


def bench_model(signals: int, port: int, qos: int, client_id: str, inflight: int) -> str:
    lines = "\n".join(f"      s{i:04d}: {{unit: Cel}}" for i in range(signals))
    return f"""
enterprise: bench
equipment_types:
  sensor_rack:
    signals:
{lines}
connectors:
  bench:
    protocol: mqtt
    url: mqtt://127.0.0.1:{port}
    client_id: {client_id}
    qos: {qos}
    session_expiry: {SESSION_EXPIRY}
    inflight: {inflight}
    topics:
      - {{filter: "{FILTER}", value: value, timestamp: ts, timestamp_format: epoch_ms}}
    map:
      - {{source: "bench/rack/{{signal}}", signal: "bench/site/area/line/cell/rack/{{signal}}"}}
sites:
  site:
    timezone: UTC
    areas:
      area:
        lines:
          line:
            cells:
              cell:
                equipment:
                  rack: {{type: sensor_rack}}
"""


def omp_connector(
    port: int, qos: int, messages: int, signals: int, client_id: str, workdir: Path, inflight: int
) -> tuple[float, float]:
    """Points/s through the connector, Ingest and the DuckDB historian until flushed;
    and the rate at which ingest had accepted them all (before the final flush)."""
    backend = DuckDBBackend.open(workdir / f"omp-qos{qos}.duckdb")
    historian = Historian(backend, queue_points=2_000_000)
    historian.start()
    registry = compile_model(
        parse_model(bench_model(signals, port, qos, client_id, inflight)), ids=historian
    )
    ingest = Ingest(registry, historian=historian, bus=Bus())
    host = ConnectorHost(
        registry, ingest, {Protocol.MQTT: PLUGIN}, backoff=lambda: Backoff(initial=0.05)
    )
    t0 = time.perf_counter()
    host.start()
    while ingest.stats().accepted < messages:
        time.sleep(0.005)
        if time.perf_counter() - t0 > 600:
            raise SystemExit(f"omp accepted only {ingest.stats().accepted} of {messages}")
    accepted = time.perf_counter() - t0
    historian.flush(timeout=600)
    stored = time.perf_counter() - t0
    host.stop()
    written = historian.stats().points_written
    historian.stop()
    stats = ingest.stats()
    if written != messages or sum(stats.rejected.values()):
        raise SystemExit(f"stored {written} of {messages}; rejected {dict(stats.rejected)}")
    return messages / stored, messages / accepted


def run(
    port: int, qos: int, messages: int, signals: int, workdir: Path, inflight: int
) -> list[Result]:
    bare_id, late_id, omp_id = f"bench-bare-{qos}", f"bench-late-{qos}", f"bench-omp-{qos}"
    sessions = [bare_id, omp_id] + ([late_id] if qos else [])
    fill = fill_queues(port, qos, messages, signals, sessions)
    print(f"QoS {qos}: {messages:,} messages queued for {len(sessions)} sessions in {fill:.1f} s")
    reference = bare_gmqtt(port, qos, messages, bare_id, late_ack=False)
    print(f"QoS {qos}: bare gmqtt + orjson {reference:,.0f} msgs/s")
    late = bare_gmqtt(port, qos, messages, late_id, late_ack=True) if qos else 0.0
    if qos:
        print(f"QoS {qos}: bare gmqtt + orjson, coroutine ack {late:,.0f} msgs/s")
    stored, accepted = omp_connector(port, qos, messages, signals, omp_id, workdir, inflight)
    print(f"QoS {qos}: omp {stored:,.0f} points/s stored ({accepted:,.0f}/s accepted by ingest)")
    name = f"MQTT JSON connector -> ingest -> DuckDB, QoS {qos}"
    notes = {"messages": messages, "signals": signals, "inflight": inflight, "accepted": accepted}
    results = [
        Result(
            name,
            stored,
            "points/s",
            f"bare gmqtt + orjson, QoS {qos}, no storage",
            reference,
            ">= 0.50",
            notes,
        )
    ]
    if qos:
        results.append(
            Result(
                name,
                stored,
                "points/s",
                "bare gmqtt + orjson, PUBACK when a coroutine per message returns",
                late,
                "",
            )
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500_000)
    parser.add_argument("--signals", type=int, default=100)
    parser.add_argument("--qos", type=int, choices=[0, 1], action="append")
    parser.add_argument("--inflight", type=int, default=1000, help="omp's QoS 1 window")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="omp-bench-mqtt-"))
    broker = Broker(workdir)
    try:
        results = [
            result
            for qos in (args.qos or [0, 1])
            for result in run(broker.port, qos, args.messages, args.signals, workdir, args.inflight)
        ]
    finally:
        broker.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    report("mqtt-json", results)


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()

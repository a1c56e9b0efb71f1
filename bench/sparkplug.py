"""Sparkplug B host throughput: omp's connector into the embedded historian against a bare
gmqtt + protobuf subscriber, same messages, same broker, same run.

A separate publisher process writes pre-encoded MQTT PUBLISH packets (QoS 0) straight to
a private Mosquitto's socket, so the publisher is never the limit: DDATA messages of
``--metrics`` Float metrics (by alias, each with its timestamp) from one edge node with
``--devices`` devices.

(a) reference: a gmqtt subscriber that parses each payload with the generated protobuf
    code and reads every metric's alias, timestamp and value, storing nothing;
(b) omp: the Sparkplug connector under the real ConnectorHost, into Ingest (a mapping
    rule binds every metric) and the Historian on DuckDB, timed until durable.

Both are timed from the publisher's start to the last point received (a) or stored (b).
The machine is small and noisy (steal time, shared cores), so the two alternate for
``--rounds`` rounds and the result is the median of the per-round ratios; every round is
printed, with the CPU seconds the receiving thread used (noise-robust: it does not count
time spent waiting for a core).

    python bench/sparkplug.py                 # 3 rounds of 300k messages x 20 metrics
    py-spy record -f raw -o /tmp/sparkplug.txt --threads -- python bench/sparkplug.py
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from omp.bus import Bus
from omp.connectors.host import ConnectorHost
from omp.connectors.sparkplug import PLUGIN
from omp.core.wire.sparkplug_b_pb2 import Payload
from omp.historian.backends.duckdb import DuckDBBackend
from omp.historian.service import Historian
from omp.ingest import Ingest
from omp.model import compile_model, parse_model
from omp.model.kinds import Protocol

from common import Result, report

GROUP, NODE = "bench", "edge"
FLOAT, UINT64, BOOLEAN = 9, 8, 11


# -- the broker --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_mosquitto(work: Path, port: int) -> subprocess.Popen[bytes]:
    config = work / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\n"
        "max_queued_messages 0\nmax_inflight_messages 0\n"
    )
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    process = subprocess.Popen([binary, "-c", str(config)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"mosquitto did not start on port {port}")


def thread_cpu_seconds(native_id: int) -> float:
    """User plus system CPU seconds one thread of this process has used."""
    stat = Path(f"/proc/self/task/{native_id}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the publisher (its own process) -----------------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _publish_packet(topic: str, payload: bytes) -> bytes:
    name = topic.encode()
    body = len(name).to_bytes(2, "big") + name + payload
    return b"\x30" + _varint(len(body)) + body


def _connect_packet(client_id: str) -> bytes:
    ident = client_id.encode()
    body = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(ident).to_bytes(2, "big") + ident
    return b"\x10" + _varint(len(body)) + body


def births(devices: int, metrics: int, start_ms: int) -> list[tuple[str, bytes]]:
    """NBIRTH (seq 0, bdSeq, Rebirth) and one DBIRTH per device (seq 1..)."""
    node = Payload(timestamp=start_ms, seq=0)
    for name, datatype in (("bdSeq", UINT64), ("Node Control/Rebirth", BOOLEAN)):
        metric = node.metrics.add()
        metric.name, metric.datatype, metric.timestamp = name, datatype, start_ms
        if datatype == UINT64:
            metric.long_value = 0
        else:
            metric.boolean_value = False
    out = [(f"spBv1.0/{GROUP}/NBIRTH/{NODE}", node.SerializeToString())]
    for d in range(devices):
        payload = Payload(timestamp=start_ms, seq=1 + d)
        for m in range(metrics):
            metric = payload.metrics.add()
            metric.name, metric.alias, metric.datatype = f"m{m:02d}", 1 + m, FLOAT
            metric.timestamp, metric.float_value = start_ms, 20.0 + m
        out.append((f"spBv1.0/{GROUP}/DBIRTH/{NODE}/dev{d:02d}", payload.SerializeToString()))
    return out


def data_messages(messages: int, devices: int, metrics: int, start_ms: int) -> list[bytes]:
    """Pre-encoded PUBLISH packets of DDATA, devices round robin, 1 ms apart per device."""
    packets = []
    for i in range(messages):
        device, step = i % devices, i // devices
        ts = start_ms + 1 + step
        payload = Payload(timestamp=ts, seq=(1 + devices + i) & 0xFF)
        for m in range(metrics):
            metric = payload.metrics.add()
            metric.alias, metric.timestamp, metric.datatype = 1 + m, ts, FLOAT
            metric.float_value = 20.0 + m + ((i * 7 + m) % 100) * 0.25
        topic = f"spBv1.0/{GROUP}/DDATA/{NODE}/dev{device:02d}"
        packets.append(_publish_packet(topic, payload.SerializeToString()))
    return packets


def publisher(port: int, args: argparse.Namespace, start_ms: int, pipe: Connection) -> None:
    """Waits for 'births' and 'go' on ``pipe``; answers 'sent' with the publish seconds."""
    data = data_messages(args.messages, args.devices, args.metrics, start_ms)
    birth = b"".join(_publish_packet(t, p) for t, p in births(args.devices, args.metrics, start_ms))
    chunks = [b"".join(data[i : i + 1000]) for i in range(0, len(data), 1000)]
    pipe.send("ready")
    while True:
        command = pipe.recv()
        if command == "quit":
            return
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(_connect_packet(f"bench-pub-{command}"))
            sock.recv(4)  # CONNACK
            if command == "births":
                sock.sendall(birth)
                pipe.send("sent")
                continue
            t0 = time.perf_counter()
            for chunk in chunks:
                sock.sendall(chunk)
            sock.sendall(b"\xe0\x00")  # DISCONNECT: the broker has it all
            pipe.send(time.perf_counter() - t0)


# -- (a) the bare subscriber -------------------------------------------------------------


async def bare_subscriber(port: int, pipe: Connection, expected: int) -> tuple[float, int, float]:
    """(seconds, points received, CPU seconds of the receiving thread)."""
    from gmqtt import Client
    from gmqtt.mqtt.constants import MQTTv311

    received = [0]
    done = asyncio.Event()
    checksum = [0.0]

    def on_message(_c: object, _t: str, raw: bytes, _q: int, _p: object) -> None:
        payload = Payload()
        payload.ParseFromString(raw)
        total = 0.0
        for metric in payload.metrics:
            total += metric.alias + metric.timestamp + metric.float_value
        checksum[0] += total
        received[0] += len(payload.metrics)
        if received[0] >= expected:
            done.set()

    client = Client("bench-bare")
    client.on_message = on_message
    await client.connect("127.0.0.1", port, version=MQTTv311)  # as the connector does
    client.subscribe(f"spBv1.0/{GROUP}/DDATA/#", qos=0)
    await asyncio.sleep(0.5)
    me = threading.get_native_id()
    t0, cpu0 = time.perf_counter(), thread_cpu_seconds(me)
    pipe.send("go")
    try:
        await asyncio.wait_for(done.wait(), 300)
    except TimeoutError:
        print(f"bare subscriber: only {received[0]:,} of {expected:,} points arrived")
    elapsed, cpu = time.perf_counter() - t0, thread_cpu_seconds(me) - cpu0
    pipe.recv()  # the publisher's "sent"
    await client.disconnect()
    return elapsed, received[0], cpu


# -- (b) omp ------------------------------------------------------------------------------


def bench_model(url: str, devices: int, metrics: int) -> str:
    signals = "\n".join(f"      m{m:02d}: {{}}" for m in range(metrics))
    equipment = "\n".join(f"                  dev{d:02d}: {{type: box}}" for d in range(devices))
    return f"""
enterprise: bench
equipment_types:
  box:
    signals:
{signals}
connectors:
  spb:
    protocol: sparkplug
    url: {url}
    host_id: omp-bench
    map:
      - source: "{GROUP}/{NODE}/{{device}}/{{signal}}"
        signal: "bench/site/area/line/cell/{{device}}/{{signal}}"
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
{equipment}
"""


class CountingSink:
    """Ingest as the connector's sink, setting ``done`` once ``expected`` points were accepted.

    The harness waits on the event instead of polling ``Ingest.stats()``: a polling main
    thread takes the GIL from the connector's thread hundreds of times a second, which the
    bare subscriber (alone in its process) never pays.
    """

    def __init__(self, ingest: Ingest) -> None:
        self.ingest = ingest
        self.accepted = 0
        self.expected = 0
        self.done = threading.Event()

    def submit(self, batch: Any) -> object:
        report = self.ingest.submit(batch)
        self.accepted += report.accepted
        if self.expected and self.accepted >= self.expected:
            self.done.set()
        return report

    def submit_events(self, events: Any) -> None:
        self.ingest.submit_events(events)

    def record_rejects(self, *args: Any, **kwargs: Any) -> None:
        self.ingest.record_rejects(*args, **kwargs)


def omp_host(
    port: int, pipe: Connection, args: argparse.Namespace, work: Path
) -> tuple[float, float]:
    """(seconds until every point is durable, CPU seconds of the connector's thread)."""
    backend = DuckDBBackend.open(work / "omp.duckdb")
    historian = Historian(backend, queue_points=2_000_000)
    historian.start()
    url = f"mqtt://127.0.0.1:{port}"
    registry = compile_model(
        parse_model(bench_model(url, args.devices, args.metrics)), ids=historian
    )
    ingest = Ingest(registry, historian=historian, bus=Bus())
    sink = CountingSink(ingest)
    host = ConnectorHost(registry, sink, {Protocol.SPARKPLUG: PLUGIN})
    host.start()
    try:
        _wait(lambda: host.health()["spb"]["state"] == "connected", "the host to connect")
        pipe.send("births")
        pipe.recv()
        births_points = args.devices * args.metrics
        _wait(lambda: ingest.stats().accepted >= births_points, "the births to be stored")
        expected = births_points + args.messages * args.metrics
        thread = _connector_thread()
        sink.expected = expected
        t0, cpu0 = time.perf_counter(), thread_cpu_seconds(thread)
        pipe.send("go")
        if not sink.done.wait(600):
            raise SystemExit(f"timed out: {sink.accepted:,} of {expected:,} points accepted")
        historian.flush(timeout=600)
        elapsed, cpu = time.perf_counter() - t0, thread_cpu_seconds(thread) - cpu0
        pipe.recv()  # the publisher's "sent"
        stats = ingest.stats()
        # The NBIRTH's 'Node Control/Rebirth' (false) is the one metric no rule binds.
        unmapped = {a: n for (_, a), n in stats.unmapped.items() if "/_node/" not in a}
        if unmapped or sum(stats.rejected.values()) > len(stats.unmapped):
            raise SystemExit(f"omp rejected points: {stats.rejected}, unmapped {unmapped}")
    finally:
        host.stop()
        historian.stop()
    return elapsed, cpu


def _connector_thread() -> int:
    for thread in threading.enumerate():
        if thread.name.startswith("omp-connector-") and thread.native_id is not None:
            return thread.native_id
    raise SystemExit("the connector's thread is not running")


def _wait(condition: object, what: str, timeout: float = 600, period: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(period)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300_000)
    parser.add_argument("--devices", type=int, default=10)
    parser.add_argument("--metrics", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="omp-bench-sparkplug-"))
    port = free_port()
    broker = start_mosquitto(work, port)
    start_ms = time.time_ns() // 1_000_000 - 86_400_000  # a day ago: never in the future
    ours, theirs = mp.get_context("spawn").Pipe()
    process = mp.get_context("spawn").Process(
        target=publisher, args=(port, args, start_ms, theirs), daemon=True
    )
    process.start()
    points = args.messages * args.metrics
    rounds: list[dict[str, float]] = []
    try:
        print("publisher encoding messages...")
        assert ours.recv() == "ready"
        for number in range(1, args.rounds + 1):
            bare_s, bare_points, bare_cpu = asyncio.run(bare_subscriber(port, ours, points))
            round_dir = work / f"round{number}"
            round_dir.mkdir()
            omp_s, omp_cpu = omp_host(port, ours, args, round_dir)
            shutil.rmtree(round_dir)
            bare_rate, omp_rate = bare_points / bare_s, points / omp_s
            rounds.append(
                {
                    "bare_points_s": bare_rate,
                    "omp_points_s": omp_rate,
                    "ratio": omp_rate / bare_rate,
                    "bare_cpu_s": bare_cpu,
                    "omp_cpu_s": omp_cpu,
                    "cpu_ratio": bare_cpu / omp_cpu,
                }
            )
            print(
                f"round {number}: bare {bare_rate:,.0f} points/s ({bare_s:.2f} s, "
                f"{bare_cpu:.2f} s CPU), omp {omp_rate:,.0f} points/s ({omp_s:.2f} s, "
                f"{omp_cpu:.2f} s CPU of the connector thread): ratio {omp_rate / bare_rate:.2f}, "
                f"CPU ratio {bare_cpu / omp_cpu:.2f}"
            )
        ours.send("quit")
    finally:
        broker.terminate()
        broker.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    median = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    report(
        "sparkplug",
        [
            Result(
                "Sparkplug host into the embedded historian (median of rounds)",
                median["omp_points_s"],
                "points/s",
                "bare gmqtt + generated protobuf subscriber (decode only)",
                median["bare_points_s"],
                ">= 0.50",
                {
                    "points": points,
                    "messages": args.messages,
                    "metrics_per_message": args.metrics,
                    "devices": args.devices,
                    "median_ratio": round(median["ratio"], 3),
                    "ratios": [round(r["ratio"], 3) for r in rounds],
                    "median_cpu_ratio": round(median["cpu_ratio"], 3),
                    "cpu_ratios": [round(r["cpu_ratio"], 3) for r in rounds],
                },
            )
        ],
    )


if __name__ == "__main__":
    main()

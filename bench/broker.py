"""Broker drain rate: the embedded amqtt broker against Mosquitto, same clients, same run.

A publisher in its own process (mosquitto_pub, else paho) sends ``--messages`` messages of 100
bytes as fast as the broker takes them; a gmqtt subscriber (this process)
counts what arrives. The rate is messages received per second from the first
to the last one. Each broker runs in its own process (amqtt via
``omp.connectors.broker.EmbeddedBroker``), so the clients do not share its
interpreter. Mosquitto is the reference; the ratio says what amqtt reaches.

    python bench/broker.py --messages 20000
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gmqtt
import paho.mqtt.client as paho
from gmqtt.mqtt.constants import MQTTv311

from common import Result, report

PAYLOAD_BYTES = 100
TOPIC = "bench/drain"


def paho_publish(port: int, count: int, qos: int) -> None:
    """The fallback publisher process (no mosquitto_pub): paho, as fast as it goes."""
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="bench-pub")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    payload = b"x" * PAYLOAD_BYTES
    infos = [client.publish(TOPIC, payload, qos=qos) for _ in range(count)]
    infos[-1].wait_for_publish(600)
    client.disconnect()
    client.loop_stop()


AMQTT_BROKER = """
import sys, time
from omp.connectors.broker import EmbeddedBroker
broker = EmbeddedBroker(port=int(sys.argv[1]))
broker.start()
print("ready", flush=True)
sys.stdin.read()
broker.stop()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"no broker listening on 127.0.0.1:{port}")


@contextmanager
def mosquitto(workdir: Path) -> Iterator[int]:
    port = free_port()
    config = workdir / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\n"
        "max_queued_messages 0\nmax_inflight_messages 0\n"
    )
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    process = subprocess.Popen([binary, "-c", str(config)], stderr=subprocess.DEVNULL)
    try:
        wait_listening(port)
        yield port
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def amqtt_broker() -> Iterator[int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", AMQTT_BROKER, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise SystemExit("the embedded broker did not start")
        yield port
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(30)


async def drain(port: int, count: int, qos: int, timeout: float) -> tuple[float, int]:
    """(messages/s received, messages received) for one publisher run."""
    times: list[float] = []

    def on_message(client: Any, topic: str, payload: bytes, qos: int, properties: Any) -> int:
        times.append(time.perf_counter())
        return 0

    client = gmqtt.Client("bench-sub")
    client.on_message = on_message
    await client.connect("127.0.0.1", port, version=MQTTv311)
    client.subscribe(TOPIC, qos=qos)
    await asyncio.sleep(0.3)  # let the SUBACK arrive before anything is published
    publisher = await start_publisher(port, count, qos)
    deadline = time.perf_counter() + timeout
    while len(times) < count and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    await publisher.wait()
    await asyncio.sleep(0.5)  # stragglers
    await client.disconnect()
    received = len(times)
    if received < 2:
        return 0.0, received
    return (received - 1) / (times[-1] - times[0]), received


async def start_publisher(port: int, count: int, qos: int) -> asyncio.subprocess.Process:
    """mosquitto_pub (C, one message per stdin line) when installed, else the paho script."""
    binary = shutil.which("mosquitto_pub")
    if binary is None:
        return await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--publisher", str(port), str(count), str(qos)
        )
    process = await asyncio.create_subprocess_exec(
        binary,
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-t",
        TOPIC,
        "-q",
        str(qos),
        "-l",
        "-i",
        "bench-pub",
        stdin=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None
    line = b"x" * (PAYLOAD_BYTES - 1) + b"\n"
    process.stdin.write(line * count)
    await process.stdin.drain()
    process.stdin.close()
    return process


def measure(port: int, count: int, qos: int) -> tuple[float, int]:
    return asyncio.run(drain(port, count, qos, timeout=300))


def main() -> None:
    if sys.argv[1:2] == ["--publisher"]:
        paho_publish(*(int(arg) for arg in sys.argv[2:5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    args = parser.parse_args()
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        for qos in (0, 1):
            with mosquitto(Path(tmp)) as port:
                reference, ref_received = measure(port, args.messages, qos)
            with amqtt_broker() as port:
                rate, received = measure(port, args.messages, qos)
            results.append(
                Result(
                    name=f"amqtt drain, QoS {qos}",
                    value=rate,
                    unit="msgs/s",
                    reference_name="Mosquitto",
                    reference_value=reference,
                    notes={
                        "sent": args.messages,
                        "amqtt_received": received,
                        "mosquitto_received": ref_received,
                    },
                )
            )
    report("broker", results)


if __name__ == "__main__":
    main()

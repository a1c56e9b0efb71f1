"""End-to-end latency: from an MQTT publish to the value being queryable in the historian.

The full embedded path: a paho publisher in its own process -> Mosquitto ->
the MQTT JSON connector (``omp.connectors.mqtt.PLUGIN``) under the real
``ConnectorHost`` -> ``Ingest`` -> the ``Historian`` (DuckDB, single writer,
flush window) -> a raw read. Each message carries its publish time (epoch us)
as the point's timestamp and a sequence number as its value; this process
polls ``Historian.read_raw`` and takes, per message, the time it was first
returned minus the time it was published.

The reference, measured on the same messages in the same run, is the MQTT
hop alone: a paho subscriber in this process timing each message's arrival.
The same run also times the live path northbound: publish -> connector ->
ingest -> bus -> UNS publisher -> Mosquitto -> a subscriber to ``omp/v1/#``
(independent of the flush interval; values the UNS coalesced are not counted).
The run is repeated per historian flush interval (default 1 s, and 100 ms).

    python bench/latency.py --rate 200 --seconds 10
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as paho

from broker import mosquitto
from omp.connectors.host import ConnectorHost
from omp.connectors.mqtt import PLUGIN
from omp.connectors.mqtt_transport import MqttEndpoint
from omp.connectors.uns import UnsPublisher
from omp.core.time import parse_rfc3339
from omp.historian.types import RawQuery
from omp.model.kinds import Protocol
from omp.runtime.platform import Platform
from omp.runtime.settings import Settings

from common import Result, report

POLL_S = 0.002
TOPIC_ROOT = "bench"


def publish(port: int, rate: float, seconds: float, signals: int) -> None:
    """The publisher process: ``rate`` messages/s, round robin over ``signals`` topics.

    Each payload is ``{"v": <sequence number>, "ts": <publish time, epoch us>}``.
    """
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="bench-latency-pub")
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", port)
    client.loop_start()
    start, last_ts = time.monotonic(), 0
    for seq in range(int(rate * seconds)):
        pause = start + seq / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        last_ts = max(time.time_ns() // 1000, last_ts + 1)
        payload = orjson.dumps({"v": seq, "ts": last_ts})
        client.publish(f"{TOPIC_ROOT}/s{seq % signals:03d}", payload, qos=1)
    time.sleep(0.5)
    client.disconnect()
    client.loop_stop()


def bench_model(url: str, signals: int) -> str:
    names = [f"s{i:03d}" for i in range(signals)]
    declared = "\n".join(f"      {n}: {{unit: Cel}}" for n in names)
    bound = ", ".join(f'{n}: "{TOPIC_ROOT}/{n}"' for n in names)
    return f"""
enterprise: bench
connectors:
  feed:
    protocol: mqtt
    url: {url}
    topics:
      - {{filter: "{TOPIC_ROOT}/#", value: v, timestamp: ts, timestamp_format: epoch_us}}
equipment_types:
  rack:
    signals:
{declared}
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
                  rack: {{type: rack, connector: feed, bindings: {{{bound}}}}}
"""


class HopTimer:
    """A paho subscriber timing each message's arrival against the time in its payload.

    On the publisher's topics it measures the MQTT hop alone (the reference); on
    the UNS topics, publish -> connector -> ingest -> bus -> UNS publisher -> subscriber.
    """

    def __init__(self, port: int, topic_filter: str = f"{TOPIC_ROOT}/#") -> None:
        self.latencies_us: list[int] = []
        self._client = paho.Client(paho.CallbackAPIVersion.VERSION2)
        self._client.on_message = self._on_message
        subscribed = threading.Event()
        self._client.on_subscribe = lambda *_: subscribed.set()
        self._client.connect("127.0.0.1", port)
        self._client.subscribe(topic_filter, qos=1)
        self._client.loop_start()
        if not subscribed.wait(10):
            raise SystemExit(f"the subscriber to {topic_filter} got no SUBACK")

    def _on_message(self, client: Any, userdata: Any, message: paho.MQTTMessage) -> None:
        now = time.time_ns() // 1000
        ts = orjson.loads(message.payload)["ts"]
        published = parse_rfc3339(ts) if isinstance(ts, str) else int(ts)
        self.latencies_us.append(now - published)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@contextmanager
def running_platform(workdir: Path, url: str, signals: int, flush: str) -> Iterator[Platform]:
    model = workdir / "factory.yaml"
    model.write_text(bench_model(url, signals))
    settings = Settings(data_dir=workdir / "data", flush_interval=flush)  # type: ignore[arg-type]
    platform = Platform.open(settings, model_file=model, with_retention=False)
    platform.start()
    host = ConnectorHost(platform.registry, platform.ingest, {Protocol.MQTT: PLUGIN})
    host.start()
    try:
        deadline = time.monotonic() + 20
        while not host.connector_health("feed").is_connected:
            if time.monotonic() > deadline:
                raise SystemExit(f"the MQTT connector did not connect: {host.health()}")
            time.sleep(0.05)
        yield platform
    finally:
        host.stop()
        platform.stop()


def poll_until_seen(platform: Platform, expected: int, timeout: float) -> list[int]:
    """Latency (us) of each message: when a raw read first returned it, minus its timestamp."""
    ids = tuple(s.id for s in platform.registry.signals)
    seen: dict[int, int] = {}
    since = 0
    deadline = time.monotonic() + timeout
    while len(seen) < expected and time.monotonic() < deadline:
        table, _ = platform.historian.read_raw(RawQuery(ids, start=since, end=2**62, limit=100_000))
        now = time.time_ns() // 1000
        if table.num_rows:
            for ts, seq in zip(
                table.column("ts").to_pylist(), table.column("value").to_pylist(), strict=True
            ):
                seen.setdefault(int(seq), now - ts)
            # Overlap by 5 s: a point published earlier may become visible a flush later.
            since = max(since, max(table.column("ts").to_pylist()) - 5_000_000)
        time.sleep(POLL_S)
    return list(seen.values())


def percentile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000.0


@dataclass
class Run:
    """Per-message latencies (us) of one run."""

    queryable: list[int]
    hop: list[int]
    uns: list[int]


def run_once(flush: str, rate: float, seconds: float, signals: int) -> Run:
    with tempfile.TemporaryDirectory() as tmp, mosquitto(Path(tmp)) as port:
        url = f"mqtt://127.0.0.1:{port}"
        with running_platform(Path(tmp), url, signals, flush) as platform:
            uns = UnsPublisher(platform.registry, platform.bus, MqttEndpoint(url=url))
            uns.start()
            hop, uns_timer = HopTimer(port), HopTimer(port, "omp/v1/#")
            expected = int(rate * seconds)
            args = [str(port), str(rate), str(seconds), str(signals)]
            publisher = subprocess.Popen([sys.executable, __file__, "--publisher", *args])
            try:
                queryable = poll_until_seen(platform, expected, timeout=seconds + 30)
            finally:
                publisher.wait(60)
                hop.close()
                uns_timer.close()
                uns.stop()
            return Run(queryable, hop.latencies_us, uns_timer.latencies_us)


def main() -> None:
    if sys.argv[1:2] == ["--publisher"]:
        port, rate, seconds, signals = sys.argv[2:6]
        publish(int(port), float(rate), float(seconds), int(signals))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="messages per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--signals", type=int, default=20)
    parser.add_argument("--flush", nargs="*", default=["1s", "100ms"])
    args = parser.parse_args()
    expected = int(args.rate * args.seconds)
    results: list[Result] = []
    for flush in args.flush:
        run = run_once(flush, args.rate, args.seconds, args.signals)
        omp, hop = run.queryable, run.hop
        if len(omp) < expected:
            print(
                f"warning: flush {flush}: only {len(omp)} of {expected} messages became queryable"
            )
        for label, q in (("p50", 0.50), ("p99", 0.99)):
            results.append(
                Result(
                    name=f"publish -> UNS subscriber {label}, flush {flush}",
                    value=percentile(run.uns, q),
                    unit="ms",
                    reference_name=f"MQTT hop {label}",
                    reference_value=percentile(hop, q),
                    notes={"messages": expected, "uns_received": len(run.uns)},
                )
            )
            results.append(
                Result(
                    name=f"publish -> queryable {label}, flush {flush}",
                    value=percentile(omp, q),
                    unit="ms",
                    reference_name=f"MQTT hop {label}",
                    reference_value=percentile(hop, q),
                    notes={
                        "messages": expected,
                        "queryable": len(omp),
                        "hop_received": len(hop),
                        "max_ms": max(omp) / 1000.0,
                        "mean_ms": statistics.fmean(omp) / 1000.0,
                    },
                )
            )
    report("latency", results)


if __name__ == "__main__":
    main()

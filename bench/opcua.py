"""OPC UA notifications/s: omp's connector against a bare asyncua client, same server, same run.

A separate process runs an asyncua server with N Double variables that it
rewrites as fast as it can (0 ms sampling and publishing). The reference is a
bare asyncua client: one subscription, every variable monitored, a handler
counting ``datachange_notification`` calls. Then omp's OPC UA connector runs
under the real ``ConnectorHost`` into a counting sink (rows submitted). Both
are measured alternately over the same window; the ratio is omp / bare.

    python bench/opcua.py --variables 1000 --seconds 10 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asyncua import Client, Server, ua

from omp.connectors.host import ConnectorHost
from omp.connectors.opcua import PLUGIN
from omp.core.batch import PointBatch, SourceBatch, TextBatch
from omp.core.events import Event
from omp.core.rejects import RejectReason
from omp.core.sink import ConnectorSink
from omp.model import Registry, compile_model, parse_model
from omp.model.kinds import Protocol
from omp.runtime.platform import Platform
from omp.runtime.settings import Settings

from common import Result, report

NS = "urn:omp:bench"
YIELD_EVERY = 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(port: int, variables: int, ready: Any) -> None:
    """The server process: N variables rewritten in a tight loop until terminated."""
    import logging

    logging.disable(logging.WARNING)
    asyncio.run(_serve(port, variables, ready))


async def _serve(port: int, variables: int, ready: Any) -> None:
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/bench/")
    ns = await server.register_namespace(NS)
    folder = await server.nodes.objects.add_object(ua.NodeId("Bench", ns), "Bench")
    ids = []
    for i in range(variables):
        node = await folder.add_variable(ua.NodeId(f"v{i:05d}", ns), f"v{i:05d}", 0.0)
        ids.append(node.nodeid)
    await server.start()
    ready.set()
    value = 0.0
    while True:
        value += 1.0
        for i, node_id in enumerate(ids):
            await server.write_attribute_value(
                node_id, ua.DataValue(ua.Variant(value, ua.VariantType.Double))
            )
            if i % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # let the server's publish tasks run between writes


@dataclass(frozen=True)
class Rates:
    per_second: float
    cpu_us_per_notification: float
    """Client process CPU (all threads) per notification: the client's own cost."""


def _rates(count: int, start: float, cpu_start: float) -> Rates:
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return Rates(count / wall, cpu * 1e6 / count if count else float("nan"))


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    def datachange_notification(self, node: Any, val: Any, data: Any) -> None:
        self.count += 1


async def bare_client(url: str, variables: int, seconds: float, warmup: float) -> Rates:
    """Notifications/s of a plain asyncua subscription with a counting handler."""
    client = Client(url)
    await client.connect()
    try:
        counter = _Counter()
        params = ua.CreateSubscriptionParameters(
            RequestedPublishingInterval=0,
            RequestedLifetimeCount=10000,
            RequestedMaxKeepAliveCount=100,
            MaxNotificationsPerPublish=0,
            PublishingEnabled=True,
            Priority=0,
        )
        sub = await client.create_subscription(params, counter)
        ns = await client.get_namespace_index(NS)
        nodes = [client.get_node(ua.NodeId(f"v{i:05d}", ns)) for i in range(variables)]
        await sub.subscribe_data_change(nodes, sampling_interval=0)
        await asyncio.sleep(warmup)
        start_count, start, cpu = counter.count, time.perf_counter(), time.process_time()
        await asyncio.sleep(seconds)
        return _rates(counter.count - start_count, start, cpu)
    finally:
        await client.disconnect()


class CountingSink:
    """A ConnectorSink that counts rows, and passes everything on to ``inner`` if given."""

    def __init__(self, inner: ConnectorSink | None = None) -> None:
        self.rows = 0
        self._inner = inner
        self._lock = threading.Lock()

    def submit(self, batch: SourceBatch | PointBatch | TextBatch) -> object:
        result = self._inner.submit(batch) if self._inner is not None else None
        with self._lock:
            self.rows += len(batch)
        return result

    def submit_events(self, events: Sequence[Event]) -> None:
        if self._inner is not None:
            self._inner.submit_events(events)

    def record_rejects(
        self,
        reason: RejectReason,
        count: int = 1,
        *,
        connector: str | None = None,
        source: str | None = None,
    ) -> None:
        if self._inner is not None:
            self._inner.record_rejects(reason, count, connector=connector, source=source)


def bench_model(url: str, variables: int) -> str:
    signals = "\n".join(f"      v{i:05d}: {{unit: Cel}}" for i in range(variables))
    bindings = "\n".join(
        f"                      v{i:05d}: ns=2;s=v{i:05d}" for i in range(variables)
    )
    return f"""
enterprise: bench
connectors:
  ua:
    protocol: opcua
    endpoint: {url}
    publishing_interval: 0ms
    sampling_interval: 0ms
equipment_types:
  rack:
    signals:
{signals}
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
                  rack:
                    type: rack
                    connector: ua
                    bindings:
{bindings}
"""


class _Ids:
    def ensure_ids(self, paths: Sequence[str]) -> dict[str, int]:
        return {path: number for number, path in enumerate(sorted(paths), 1)}


def omp_connector(url: str, variables: int, seconds: float, warmup: float) -> Rates:
    """Rows/s that omp's connector submits under the real host into a counting sink."""
    registry = compile_model(parse_model(bench_model(url, variables)), ids=_Ids())
    return _measure(registry, CountingSink(), seconds, warmup)


def omp_into_historian(url: str, variables: int, seconds: float, warmup: float) -> Rates:
    """The same, through the platform's Ingest into the embedded DuckDB historian."""
    with tempfile.TemporaryDirectory() as workdir:
        model = Path(workdir) / "factory.yaml"
        model.write_text(bench_model(url, variables))
        settings = Settings(data_dir=Path(workdir) / "data")  # type: ignore[call-arg]
        platform = Platform.open(settings, model_file=model, with_retention=False)
        platform.start()
        try:
            return _measure(platform.registry, CountingSink(platform.ingest), seconds, warmup)
        finally:
            platform.stop()


def _measure(registry: Registry, sink: CountingSink, seconds: float, warmup: float) -> Rates:
    host = ConnectorHost(registry, sink, {Protocol.OPCUA: PLUGIN})
    host.start()
    try:
        time.sleep(warmup)
        start_rows, start, cpu = sink.rows, time.perf_counter(), time.process_time()
        time.sleep(seconds)
        return _rates(sink.rows - start_rows, start, cpu)
    finally:
        host.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variables", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--historian", action="store_true", help="also run omp into Ingest + embedded DuckDB"
    )
    args = parser.parse_args()
    port = free_port()
    url = f"opc.tcp://127.0.0.1:{port}/bench/"
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    server = context.Process(target=serve, args=(port, args.variables, ready), daemon=True)
    server.start()
    try:
        if not ready.wait(120):
            raise SystemExit("bench server did not start")
        bare: list[Rates] = []
        ours: list[Rates] = []
        stored: list[Rates] = []
        for run in range(args.runs):
            # Alternate who goes first, so neither always meets a warmer server.
            if run % 2:
                ours.append(omp_connector(url, args.variables, args.seconds, args.warmup))
            bare.append(asyncio.run(bare_client(url, args.variables, args.seconds, args.warmup)))
            if not run % 2:
                ours.append(omp_connector(url, args.variables, args.seconds, args.warmup))
            print(f"run {run + 1}: bare asyncua {bare[-1]}, omp {ours[-1]}", flush=True)
            if args.historian:
                stored.append(omp_into_historian(url, args.variables, args.seconds, args.warmup))
                print(f"run {run + 1}: omp into the historian {stored[-1]}", flush=True)
    finally:
        server.terminate()
        server.join(10)
    _report(args, bare, ours, stored)


def _report(
    args: argparse.Namespace, bare: list[Rates], ours: list[Rates], stored: list[Rates]
) -> None:
    def median(rates: list[Rates], field: str) -> float:
        return float(statistics.median(getattr(r, field) for r in rates))

    common = {"runs": args.runs, "seconds": args.seconds, "variables": args.variables}
    # Each run pairs the two clients on the same server minutes: the median of the per-run
    # ratios is steadier than the ratio of medians on a busy machine.
    paired = statistics.median(o.per_second / b.per_second for o, b in zip(ours, bare, strict=True))
    report(
        "opcua",
        [
            Result(
                name=f"omp OPC UA connector, {args.variables} variables, 0 ms intervals",
                value=median(ours, "per_second"),
                unit="notifications/s",
                reference_name="bare asyncua client (counting handler)",
                reference_value=median(bare, "per_second"),
                target=">= 0.80 (server-bound: both wait for the same server)",
                notes=common
                | {
                    "median of per-run ratios": round(paired, 2),
                    "bare": [round(r.per_second) for r in bare],
                    "omp": [round(r.per_second) for r in ours],
                },
            ),
            Result(
                name="client CPU per notification, omp (lower is better)",
                value=median(ours, "cpu_us_per_notification"),
                unit="us",
                reference_name="bare asyncua client",
                reference_value=median(bare, "cpu_us_per_notification"),
                target="<= 1.25 (ratio of costs)",
            ),
            *(
                [
                    Result(
                        name="omp OPC UA connector into Ingest + DuckDB historian",
                        value=median(stored, "per_second"),
                        unit="notifications/s",
                        reference_name="bare asyncua client (counting handler)",
                        reference_value=median(bare, "per_second"),
                        target=">= 0.80",
                    )
                ]
                if stored
                else []
            ),
        ],
    )


if __name__ == "__main__":
    main()

"""Modbus TCP polling: omp's connector against bare pymodbus, same server, same run.

A pymodbus TCP server runs in its own process with ``--blocks`` blocks of 125
holding registers. The reference is bare pymodbus: ``--connections`` async
clients, each reading 125-register blocks back to back (one request in
flight per connection, as pymodbus allows). Then omp's Modbus connector polls
the same registers as typed values (float32, float64, int32, uint16, int16,
in several byte orders) with ``poll_interval: 0`` (back to back) over the same
number of connections, run by the real connector host into a counting sink,
or with ``--ingest`` into the real Ingest and the embedded DuckDB historian.

    python bench/modbus.py
    python bench/modbus.py --ingest
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from omp.connectors.host import ConnectorHost
from omp.connectors.modbus import PLUGIN
from omp.core.batch import PointBatch, SourceBatch, TextBatch
from omp.core.events import Event
from omp.core.rejects import RejectReason
from omp.model import Registry, compile_model, parse_model
from omp.model.kinds import Protocol

from common import Result, report

BLOCK = 125
# One block's layout: (type, order, count); 125 registers, 70 values.
LAYOUT = [
    ("float32", "abcd", 20),
    ("float32", "cdab", 10),
    ("float64", "abcd", 5),
    ("int32", "abcd", 10),
    ("uint16", "abcd", 15),
    ("int16", "badc", 10),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(port: int, registers: int) -> None:
    """The server process: one unit, ``registers`` holding registers."""
    from pymodbus.server import ModbusTcpServer
    from pymodbus.simulator import DataType, SimData, SimDevice

    async def main() -> None:
        values = [(i * 37) % 16000 for i in range(registers)]  # finite floats
        device = SimDevice(id=1, simdata=[SimData(0, values=values, datatype=DataType.REGISTERS)])
        server = ModbusTcpServer(device, address=("127.0.0.1", port))
        await server.serve_forever()

    asyncio.run(main())


def wait_listening(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"the pymodbus server did not start on port {port}")


# -- the reference: bare pymodbus ------------------------------------------------------------
async def bare_reads(port: int, blocks: int, connections: int, seconds: float) -> int:
    """Reads done by ``connections`` async clients, each reading blocks back to back."""
    from pymodbus.client import AsyncModbusTcpClient

    clients = [
        AsyncModbusTcpClient("127.0.0.1", port=port, reconnect_delay=0) for _ in range(connections)
    ]
    for client in clients:
        if not await client.connect():
            raise SystemExit("bare client could not connect")
    done = 0
    stop = time.perf_counter() + seconds

    async def loop(first: int, client: AsyncModbusTcpClient) -> None:
        nonlocal done
        block = first
        while time.perf_counter() < stop:
            response = await client.read_holding_registers(
                (block % blocks) * BLOCK, count=BLOCK, device_id=1
            )
            if response.isError() or len(response.registers) != BLOCK:
                raise SystemExit(f"bare read failed: {response}")
            done += 1
            block += 1

    await asyncio.gather(*(loop(i, c) for i, c in enumerate(clients)))
    for client in clients:
        client.close()
    return done


# -- omp ------------------------------------------------------------------------------------
class CountingSink:
    """A ``ConnectorSink`` that only counts what it is given."""

    def __init__(self) -> None:
        self.points = 0

    def submit(self, batch: SourceBatch | PointBatch | TextBatch) -> object:
        self.points += len(batch)
        return None

    def submit_events(self, events: Sequence[Event]) -> None:
        pass

    def record_rejects(
        self,
        reason: RejectReason,
        count: int = 1,
        *,
        connector: str | None = None,
        source: str | None = None,
    ) -> None:
        raise SystemExit(f"{count} values rejected at {source}: {reason}")


def bench_model(port: int, blocks: int, connections: int) -> tuple[str, int]:
    """A model binding every value of every block; returns the YAML and the value count."""
    signals: dict[str, Any] = {}
    bindings: dict[str, str] = {}
    for block in range(blocks):
        register = block * BLOCK
        for kind, order, count in LAYOUT:
            size = {"float32": 2, "float64": 4, "int32": 2, "uint16": 1, "int16": 1}[kind]
            for _ in range(count):
                name = f"v{len(bindings):05d}"
                signals[name] = {}
                bindings[name] = f"holding:{register}:{kind}:{order}"
                register += size
    model = {
        "enterprise": "bench",
        "connectors": {
            "plc": {
                "protocol": "modbus",
                "host": "127.0.0.1",
                "port": port,
                "poll_interval": "0",
                "connections": connections,
                "timeout": "5s",
            }
        },
        "equipment_types": {"rack": {"signals": signals}},
        "sites": {
            "site": {
                "timezone": "UTC",
                "areas": {
                    "area": {
                        "lines": {
                            "line": {
                                "cells": {
                                    "cell": {
                                        "equipment": {
                                            "rack": {
                                                "type": "rack",
                                                "connector": "plc",
                                                "bindings": bindings,
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                },
            }
        },
    }
    return yaml.safe_dump(model), len(bindings)


class _Ids:
    def ensure_ids(self, paths: Sequence[str]) -> dict[str, int]:
        return {path: number for number, path in enumerate(sorted(paths), 1)}


def omp_reads(
    model_yaml: str, seconds: float, *, ingest: bool
) -> tuple[float, float, dict[str, Any]]:
    """Reads/s and values/s of the connector under the real host, after a warm-up."""
    plugins = {Protocol.MODBUS: PLUGIN}
    historian = None
    if ingest:
        from omp.bus import Bus
        from omp.historian.backends.duckdb import DuckDBBackend
        from omp.historian.service import Historian
        from omp.ingest import Ingest

        work = Path(tempfile.mkdtemp(prefix="omp-bench-modbus-"))
        historian = Historian(DuckDBBackend.open(work / "omp.duckdb"), queue_points=2_000_000)
        historian.start()
        registry: Registry = compile_model(parse_model(model_yaml), ids=historian)
        sink: Any = Ingest(registry, historian=historian, bus=Bus())
    else:
        registry = compile_model(parse_model(model_yaml), ids=_Ids())
        sink = CountingSink()
    host = ConnectorHost(registry, sink, plugins)
    host.start()
    try:
        health = host.connector_health("plc")
        deadline = time.monotonic() + 20
        while health.snapshot()["messages"] < 200:
            if time.monotonic() > deadline:
                raise SystemExit(f"connector not polling: {health.snapshot()}")
            time.sleep(0.05)
        first, t0 = health.snapshot(), time.perf_counter()
        time.sleep(seconds)
        last, elapsed = health.snapshot(), time.perf_counter() - t0
    finally:
        host.stop()
        if historian is not None:
            historian.flush(timeout=120)
            historian.stop()
    if ingest:
        stats = sink.stats()
        if stats.rejected or stats.unmapped or not stats.accepted:
            raise SystemExit(f"ingest did not take every value: {stats}")
        last["ingest_accepted"] = stats.accepted
    if last["errors"]:
        raise SystemExit(f"connector errors during the run: {last['last_error']}")
    reads = (last["messages"] - first["messages"]) / elapsed
    values = (last["values"] - first["values"]) / elapsed
    return reads, values, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=40, help="125-register blocks")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ingest", action="store_true", help="real Ingest + DuckDB historian")
    args = parser.parse_args()

    port = free_port()
    server = multiprocessing.get_context("spawn").Process(
        target=serve, args=(port, args.blocks * BLOCK + 10), daemon=True
    )
    server.start()
    try:
        wait_listening(port)
        model_yaml, values_per_poll = bench_model(port, args.blocks, args.connections)
        bare: list[float] = []
        ours: list[float] = []
        value_rates: list[float] = []
        for _ in range(args.repeat):  # interleaved, so drift hits both alike
            reads = asyncio.run(bare_reads(port, args.blocks, args.connections, args.seconds))
            bare.append(reads / args.seconds)
            rate, value_rate, _ = omp_reads(model_yaml, args.seconds, ingest=args.ingest)
            ours.append(rate)
            value_rates.append(value_rate)
    finally:
        server.terminate()
        server.join(10)

    sink = "Ingest + DuckDB historian" if args.ingest else "counting sink"
    report(
        "modbus",
        [
            Result(
                f"omp Modbus connector polling, {sink}",
                statistics.median(ours),
                "reads/s",
                f"bare pymodbus async, {args.connections} connections, 125-register reads",
                statistics.median(bare),
                ">= 0.70",
                {
                    "values_per_s": statistics.median(value_rates),
                    "values_per_read": values_per_poll / args.blocks,
                    "bare_runs": ", ".join(f"{r:,.0f}" for r in bare),
                    "omp_runs": ", ".join(f"{r:,.0f}" for r in ours),
                },
            )
        ],
    )


if __name__ == "__main__":
    main()

"""Support for the protocol server tests: frames made by hand, a recording MQTT subscriber
(paho, independent of the gmqtt publishers under test), a model built around a section,
and a TCP proxy whose connections a test can kill."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import paho.mqtt.client as paho
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from omp.sim.catalog import SignalKind
from omp.sim.frame import Frame, Value
from omp.sim.plant import Plant
from omp.sim.servers.base import ServedSection

T = TypeVar("T")

T0 = 1_772_348_400_000_000
"""2026-03-01T07:00:00Z in µs: the first frame's simulated time."""


def frame(plant: Plant, tick: int, *, still: frozenset[str] = frozenset()) -> Frame:
    """A frame at ``T0 + tick`` seconds whose values depend on ``tick`` (and machine, signal).

    Signals named in ``still`` keep their tick-0 value, so a test can see what is unchanged.
    """
    rows: list[list[Value]] = []
    for machine in plant.machines:
        row: list[Value] = []
        for number, signal in enumerate(machine.kind.signals):
            t = 0 if signal.name in still else tick
            if signal.kind is SignalKind.TEXT:
                row.append(f"ORD-{machine.index}-{t}")
            elif signal.kind is SignalKind.STATE:
                row.append((machine.index + t) % 7)
            elif signal.datatype == "int":
                row.append(machine.index * 1000 + t * 3 + number)
            else:
                row.append(machine.index + number / 8 + t * 0.125)
        rows.append(row)
    return Frame(ts=T0 + tick * 1_000_000 + 250_000, values=rows)


async def until(condition: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
    """Poll on the running loop (so the publishers under test keep working)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
        await asyncio.sleep(0.02)


class Recorder:
    """A paho subscriber keeping every (topic, payload) it receives, in arrival order."""

    def __init__(self, port: int, topic: str) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.connects = 0
        self._lock = threading.Lock()
        self._topic = topic
        self._client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"recorder-{port}")
        self._client.reconnect_delay_set(min_delay=0.05, max_delay=0.2)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._client.connect("127.0.0.1", port, keepalive=5)
        self._client.loop_start()

    def _on_connect(self, client: paho.Client, *_: Any) -> None:
        client.subscribe(self._topic, qos=1)

    def _on_subscribe(self, *_: Any) -> None:
        with self._lock:
            self.connects += 1

    def _on_message(self, _c: Any, _u: Any, message: paho.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, bytes(message.payload)))

    def taken(self) -> list[tuple[str, bytes]]:
        with self._lock:
            return list(self.messages)

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        self._client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def model_yaml(plant: Plant, section: ServedSection) -> str:
    """A factory model with every kind the section's machines have, and those machines."""
    machines = [plant.machines[index] for index in section.bindings]
    types: dict[str, Any] = {}
    sites: dict[str, Any] = {}
    for machine in machines:
        signals: dict[str, Any] = {}
        for signal in machine.kind.signals:
            spec: dict[str, Any] = {"datatype": signal.datatype, "kind": signal.kind.value}
            if signal.unit is not None:
                spec["unit"] = signal.unit
            signals[signal.name] = spec
        types[machine.kind.name] = {"signals": signals}
        connector, addresses = section.bindings[machine.index]
        equipment: dict[str, Any] = {"type": machine.kind.name, "connector": connector}
        if addresses:
            equipment["bindings"] = addresses
        site = sites.setdefault(machine.site, {"timezone": "UTC", "areas": {}})
        line = site["areas"].setdefault(machine.area, {"lines": {}})["lines"]
        cells = line.setdefault(machine.line, {"cells": {}})["cells"]
        cells.setdefault(machine.cell, {"equipment": {}})["equipment"][machine.name] = equipment
    model = {
        "enterprise": plant.enterprise,
        "connectors": section.connectors,
        "equipment_types": types,
        "sites": sites,
    }
    return yaml.safe_dump(model, sort_keys=False)


class KillableProxy:
    """A TCP proxy on the running loop: ``kill`` aborts every connection (no DISCONNECT),
    as a pulled cable or a crashed process would; new connections are still accepted."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._transports: list[asyncio.WriteTransport] = []
        self._pipes: set[asyncio.Future[Any]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        for w in (writer, up_writer):
            self._transports.append(w.transport)  # type: ignore[arg-type]
        pipes = asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        self._pipes.add(pipes)
        await pipes
        self._pipes.discard(pipes)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
        writer.transport.abort()

    def kill(self) -> None:
        for transport in self._transports:
            transport.abort()
        self._transports.clear()

    async def stop(self) -> None:
        self.kill()
        if self._pipes:  # aborted: each pipe ends on its own, within the loop's next turns
            await asyncio.wait(self._pipes, timeout=5)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


class OnLoop:
    """A simulator output started on its own event loop in a thread, as the runner runs it,
    so a test can drive it from plain code and read it with another loop's client."""

    def __init__(self, output: Any, *, timeout: float = 60.0) -> None:
        self.output = output
        self.timeout = timeout
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.call(output.start())

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(self.timeout)

    def close(self) -> None:
        self.call(self.output.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

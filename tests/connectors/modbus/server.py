"""A real pymodbus TCP server on a free loopback port, in its own thread and event loop.

Restartable on the same port; counts every request it sees (through the
server's PDU trace, not a patch); units listed in ``silent`` (or all units
while ``answering`` is False) never answer, like a dead device behind a gateway.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.pdu import ModbusPDU
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from tests.connectors.support import free_port


@dataclass
class Tables:
    """The contents of one unit: each table starts at register (or bit) 0."""

    holding: list[int] = field(default_factory=lambda: [0] * 200)
    input: list[int] = field(default_factory=lambda: [0] * 200)
    coils: list[bool] = field(default_factory=lambda: [False] * 64)
    discrete: list[bool] = field(default_factory=lambda: [False] * 64)


@dataclass(frozen=True)
class Seen:
    unit: int
    function_code: int
    address: int
    count: int


class ModbusTestServer:
    """See the module docstring; ``start``/``stop``/``restart``, ``seen`` requests."""

    def __init__(self, units: dict[int, Tables], port: int | None = None) -> None:
        self.port = port or free_port()
        self.units = units
        self.silent: set[int] = set()
        self.answering = True
        self._seen: list[Seen] = []
        self.connections = 0
        """TCP connections accepted since the last start (its own readiness probe not counted)."""
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: ModbusTcpServer | None = None
        self._release: asyncio.Event | None = None

    # -- control, from the test thread --------------------------------------------------
    def start(self) -> None:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._main, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("modbus test server did not start")
        self._wait_listening()

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10)
        thread.join(10)
        self._loop = self._thread = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def seen(self, unit: int | None = None, function_code: int | None = None) -> list[Seen]:
        with self._lock:
            return [
                s
                for s in self._seen
                if (unit is None or s.unit == unit)
                and (function_code is None or s.function_code == function_code)
            ]

    def forget(self) -> None:
        with self._lock:
            self._seen.clear()

    # -- the server thread -----------------------------------------------------------------
    def _main(self, ready: threading.Event) -> None:
        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.run_until_complete(self._open())
        ready.set()
        loop.run_forever()
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()

    async def _open(self) -> None:
        self._release = asyncio.Event()
        devices = [self._device(unit, tables) for unit, tables in self.units.items()]
        self._server = ModbusTcpServer(
            devices,
            address=("127.0.0.1", self.port),
            trace_pdu=self._trace,
            trace_connect=self._on_connect,
        )
        await self._server.serve_forever(background=True)

    async def _shutdown(self) -> None:
        assert self._server is not None
        assert self._release is not None
        self._release.set()
        await self._server.shutdown()
        # A client reconnecting while the listener closes can still be accepted; close
        # stragglers until none is left, so no socket outlives the server.
        for _ in range(5):
            await asyncio.sleep(0.02)
            for connection in list(self._server.active_connections.values()):
                connection.close()
        asyncio.get_running_loop().call_soon(asyncio.get_running_loop().stop)

    def _device(self, unit: int, tables: Tables) -> SimDevice:
        return SimDevice(
            id=unit,
            simdata=(
                [SimData(0, values=list(tables.coils), datatype=DataType.BITS)],
                [SimData(0, values=list(tables.discrete), datatype=DataType.BITS)],
                [SimData(0, values=list(tables.holding), datatype=DataType.REGISTERS)],
                [SimData(0, values=list(tables.input), datatype=DataType.REGISTERS)],
            ),
            action=functools.partial(self._action, unit),
        )

    async def _action(self, unit: int, *_: Any) -> ExcCodes | None:
        if (unit in self.silent or not self.answering) and self._release is not None:
            await self._release.wait()  # never answers while this server runs
        return None

    def _trace(self, sending: bool, pdu: ModbusPDU) -> ModbusPDU:
        if not sending:
            seen = Seen(pdu.dev_id, pdu.function_code, pdu.address, pdu.count)
            with self._lock:
                self._seen.append(seen)
        return pdu

    def _on_connect(self, connected: bool) -> None:
        if connected:
            with self._lock:
                self.connections += 1

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    pass
            except OSError:
                time.sleep(0.02)
                continue
            while self.connections == 0 and time.monotonic() < deadline:
                time.sleep(0.005)  # the probe's accept reaches the server loop
            with self._lock:
                self.connections = 0
            return
        raise RuntimeError(f"modbus test server not listening on {self.port}")

"""A minimal Modbus TCP gateway whose units answer holding-register reads after a delay.

pymodbus's server labels a delayed answer with the transaction id of whatever
request arrived last on the connection, so it cannot play a slow unit; real
gateways answer each request with its own id, as this one does. Each unit's
holding register ``r`` holds ``unit * 1000 + r``.
"""

from __future__ import annotations

import asyncio
import struct
import threading

from tests.connectors.support import free_port


class SlowGateway:
    """Start with ``start()``, stop with ``stop()``; ``delay[unit]`` in seconds."""

    def __init__(self, delay: dict[int, float]) -> None:
        self.port = free_port()
        self.delay = delay
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._answers: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _close(self) -> None:
        assert self._server is not None
        self._server.close()
        for _ in range(5):  # connections accepted while closing are closed too
            for task in list(self._answers):
                task.cancel()
            for writer in list(self._writers):
                writer.close()
            await asyncio.sleep(0.02)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                header = await reader.readexactly(7)
                tid, _, length, unit = struct.unpack(">HHHB", header)
                pdu = await reader.readexactly(length - 1)
                task = asyncio.create_task(self._answer(writer, tid, unit, pdu))
                self._answers.add(task)
                task.add_done_callback(self._answers.discard)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            self._writers.discard(writer)

    async def _answer(self, writer: asyncio.StreamWriter, tid: int, unit: int, pdu: bytes) -> None:
        await asyncio.sleep(self.delay.get(unit, 0.0))
        function, address, count = struct.unpack(">BHH", pdu[:5])
        values = [unit * 1000 + address + i for i in range(count)]
        body = struct.pack(f">BB{count}H", function, 2 * count, *values)
        writer.write(struct.pack(">HHHB", tid, 0, len(body) + 1, unit) + body)

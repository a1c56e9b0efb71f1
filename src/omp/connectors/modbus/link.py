"""The TCP link to one Modbus host: a few connections shared by all its unit ids.

Each pymodbus connection carries one request at a time, so ``connections``
connections give that many requests in flight. ``call`` lends a free
connection to one request and translates pymodbus's errors at this boundary:
a dropped or refused link becomes ``ConnectionLostError`` naming host:port,
a request nobody answered becomes ``NoAnswerError``, and an exception
response becomes ``DeviceRefusedError`` naming the exception code. Reconnecting
is the host's job: pymodbus's own reconnect is switched off.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusIOException

from omp.connectors.base import ConnectionLostError
from omp.connectors.modbus.frames import keep_raw_registers
from omp.connectors.modbus.options import ModbusOptions
from omp.core.errors import OmpError

Call = Callable[[AsyncModbusTcpClient], Awaitable[Any]]


class NoAnswerError(OmpError):
    """A request got no answer within the timeout (after the configured retries)."""


class DeviceRefusedError(OmpError):
    """The device answered with a Modbus exception response."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
    7: "negative acknowledge",
    8: "memory parity error",
    10: "gateway path unavailable",
    11: "gateway target device failed to respond",
}
"""Exception codes as the Modbus application protocol specification names them."""


def exception_name(code: int) -> str:
    """The code as device manuals print it, and its name.

    >>> exception_name(2)
    '2 (illegal data address)'
    """
    return f"{code} ({EXCEPTION_NAMES.get(code, 'not a standard code')})"


class Link:
    """Open connections to ``host:port``; ``lost`` is set when any of them drops."""

    def __init__(self, options: ModbusOptions) -> None:
        self.peer = f"{options.host}:{options.port}"
        self.lost = asyncio.Event()
        self.lost_reason = ""
        self._options = options
        self._clients: list[AsyncModbusTcpClient] = []
        self._free: asyncio.Queue[AsyncModbusTcpClient] = asyncio.Queue()
        self._closing = False

    async def open(self) -> None:
        """Connect every connection; ``ConnectionLostError`` when the host cannot be reached."""
        for number in range(self._options.connections):
            client = AsyncModbusTcpClient(
                self._options.host,
                port=self._options.port,
                name=f"omp-{self.peer}-{number}",
                timeout=self._options.timeout_s,
                retries=self._options.retries,
                reconnect_delay=0,  # the connector host reconnects, with backoff
                trace_connect=self._on_connect,
            )
            keep_raw_registers(client)
            self._clients.append(client)
            if not await client.connect():
                if number:
                    raise ConnectionLostError(
                        f"modbus {self.peer}: connection {number + 1} of "
                        f"{self._options.connections} refused; the device may accept fewer"
                    )
                raise ConnectionLostError(
                    f"modbus {self.peer}: cannot connect (refused, unreachable, "
                    f"or no answer within {self._options.timeout})"
                )
            self._free.put_nowait(client)

    def close(self) -> None:
        self._closing = True
        for client in self._clients:
            client.close()

    async def call(self, request: Call, what: str) -> Any:
        """Run ``request`` on a free connection; returns the response PDU (never an error PDU).

        ``what`` names the request in errors (``holding 0-124 of unit 1``).
        """
        client = await self._free.get()
        try:
            response = await request(client)
        except ConnectionException as exc:
            raise ConnectionLostError(f"modbus {self.peer}: link lost: {exc}") from None
        except ModbusIOException as exc:
            if self.lost.is_set():
                raise ConnectionLostError(f"modbus {self.peer}: {self.lost_reason}") from None
            raise NoAnswerError(
                f"{what}: no answer within {self._options.timeout} "
                f"({self._options.retries} retries): {exc.string}"
            ) from None
        finally:
            self._free.put_nowait(client)
        if response.isError():
            code = int(response.exception_code)
            raise DeviceRefusedError(f"{what}: exception {exception_name(code)}", code)
        return response

    def _on_connect(self, connected: bool) -> None:
        if not connected and not self._closing and not self.lost.is_set():
            self.lost_reason = "link lost (closed by the peer, or too many requests unanswered)"
            self.lost.set()

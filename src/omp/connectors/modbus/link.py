"""The TCP link to one Modbus host: a few connections shared by all its unit ids.

Each pymodbus connection carries one request at a time, so ``connections``
connections give that many requests in flight. ``call`` lends a free
connection to one request and translates pymodbus's errors at this boundary:
a dropped or refused link becomes ``ConnectionLostError`` naming host:port,
a request nobody answered becomes ``NoAnswerError``, and an exception
response becomes ``DeviceRefusedError`` naming the exception code. When
requests to every unit go unanswered the link is hung (``SilenceWatch``)
and counts as lost; a dead unit behind a live gateway never cuts the others.
Reconnecting is the host's job: pymodbus's own reconnect is switched off.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusIOException

from omp.connectors.base import ConnectionLostError
from omp.connectors.modbus.frames import keep_raw_registers
from omp.connectors.modbus.options import ModbusOptions
from omp.core.errors import OmpError

Call = Callable[[AsyncModbusTcpClient], Awaitable[Any]]
NEVER = 2**31


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


HUNG_AFTER = 3
"""Unanswered requests in a row (covering every unit polled) after which the link is hung."""


@dataclass(slots=True)
class SilenceWatch:
    """Tells a hung gateway from a dead unit behind a live one.

    The link counts as hung once ``limit`` requests in a row went unanswered and
    they include every unit the link polls; a dead unit among live ones never
    makes it hung, however many of its requests time out. Writes to other units
    count as requests but never widen the set of units polled.

    >>> watch = SilenceWatch(units={1, 9})
    >>> [watch.unanswered(9) for _ in range(5)]
    [False, False, False, False, False]
    >>> watch.unanswered(1)
    True
    """

    limit: int = HUNG_AFTER
    units: set[int] = field(default_factory=set)
    silent: set[int] = field(default_factory=set)
    streak: int = 0

    def answered(self) -> None:
        self.streak = 0
        self.silent.clear()

    def unanswered(self, unit: int) -> bool:
        """Count one request nobody answered; True when the link is hung."""
        self.streak += 1
        self.silent.add(unit)
        return self.streak >= self.limit and self.silent >= self.units


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
        self._silence = SilenceWatch()

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
            # pymodbus drops a connection after retries + 5 unanswered requests in a row,
            # which would cut every unit of a gateway for one dead unit: SilenceWatch decides.
            client.set_max_no_responses(NEVER)
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

    def expect(self, units: set[int]) -> None:
        """The units this link will poll: a hung link is one where all of them are silent."""
        self._silence.units |= units

    def close(self) -> None:
        self._closing = True
        for client in self._clients:
            client.close()

    async def call(self, request: Call, what: str, unit: int) -> Any:
        """Run ``request`` for ``unit`` on a free connection; returns the response PDU
        (never an error PDU). ``what`` names the request in errors (``holding 0-124 of unit 1``).
        """
        client = await self._free.get()
        try:
            response = await request(client)
        except ConnectionException as exc:
            raise ConnectionLostError(f"modbus {self.peer}: link lost: {exc}") from None
        except ModbusIOException as exc:
            if self.lost.is_set():
                raise ConnectionLostError(f"modbus {self.peer}: {self.lost_reason}") from None
            if self._silence.unanswered(unit):
                raise self._hung() from None
            raise NoAnswerError(
                f"{what}: no answer within {self._options.timeout} "
                f"({self._options.retries} retries): {exc.string}"
            ) from None
        finally:
            self._free.put_nowait(client)
        self._silence.answered()
        if response.isError():
            code = int(response.exception_code)
            raise DeviceRefusedError(f"{what}: exception {exception_name(code)}", code)
        return response

    def _hung(self) -> ConnectionLostError:
        units = ", ".join(map(str, sorted(self._silence.units)))
        self.lost_reason = (
            f"link hung: {self._silence.streak} requests in a row got no answer "
            f"from any unit ({units})"
        )
        self.lost.set()
        return ConnectionLostError(f"modbus {self.peer}: {self.lost_reason}")

    def _on_connect(self, connected: bool) -> None:
        if not connected and not self._closing and not self.lost.is_set():
            self.lost_reason = "link lost (closed by the peer, or too many requests unanswered)"
            self.lost.set()

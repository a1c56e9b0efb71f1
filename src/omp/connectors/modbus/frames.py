"""Register-read responses that keep their payload as bytes.

pymodbus decodes a register response into a list of ints, one
``struct.unpack`` per register; the connector wants the wire bytes for its
vectorised decoder anyway. These responses, registered on each client through
pymodbus's own ``register`` hook, keep ``raw`` (the register bytes as sent)
and leave ``registers`` empty. Only reads are affected: writes, exceptions and
every other function code use pymodbus's classes.
"""

from __future__ import annotations

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusIOException
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersResponse,
    ReadInputRegistersResponse,
)


def _payload(data: bytes, function_code: int) -> bytes:
    size = int(data[0])
    if size >= len(data):
        raise ModbusIOException(
            f"byte count {size} > length of answer {len(data)}", function_code=function_code
        )
    return bytes(data[1 : 1 + size])


class RawHoldingRegisters(ReadHoldingRegistersResponse):
    """Function code 3 answer: ``raw`` holds the register bytes."""

    raw: bytes = b""

    def decode(self, data: bytes) -> None:
        self.raw = _payload(data, self.function_code)
        self.registers = []


class RawInputRegisters(ReadInputRegistersResponse):
    """Function code 4 answer: ``raw`` holds the register bytes."""

    raw: bytes = b""

    def decode(self, data: bytes) -> None:
        self.raw = _payload(data, self.function_code)
        self.registers = []


def keep_raw_registers(client: AsyncModbusTcpClient) -> None:
    """Make ``client`` answer register reads with the raw responses above."""
    client.register(RawHoldingRegisters)
    client.register(RawInputRegisters)

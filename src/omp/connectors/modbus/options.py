"""The options of a Modbus TCP connector, as written under ``connectors:`` in factory.yaml.

>>> fast = {"fast": {"interval": "100ms"}}
>>> options = ModbusOptions(host="10.10.1.41", poll_interval="500ms", groups=fast)
>>> options.interval_us(None), options.interval_us("fast")
(500000, 100000)
>>> options.default_order
'abcd'
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from omp.connectors.base import Options
from omp.core.time import parse_duration

MAX_REGISTERS_PER_READ = 125
"""The Modbus limit for one read of holding or input registers (function codes 3 and 4)."""

MAX_BITS_PER_READ = 2000
"""The Modbus limit for one read of coils or discrete inputs (function codes 1 and 2)."""


def _interval(text: str) -> str:
    """A duration such as ``1s`` or ``250ms``; ``0`` (or ``0s``) means poll back to back."""
    if text.strip() in ("0", "0s", "0ms", "0us"):
        return text
    parse_duration(text)  # raises TimeFormatError (a ValueError) naming the text
    return text


def _duration(text: str) -> str:
    parse_duration(text)  # raises TimeFormatError (a ValueError) naming the text
    return text


Interval = Annotated[str, AfterValidator(_interval)]
Duration = Annotated[str, AfterValidator(_duration)]


def interval_us(text: str) -> int:
    """Microseconds of an ``Interval``; 0 means back to back."""
    return 0 if text.strip() in ("0", "0s", "0ms", "0us") else parse_duration(text)


class Endian(StrEnum):
    BIG = "big"
    LITTLE = "little"


class GroupOptions(BaseModel):
    """One named polling group; bindings join it with ``group: <name>``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    interval: Interval


class ModbusOptions(Options):
    """Options of one Modbus TCP server or gateway (one host and port)."""

    host: str
    port: int = Field(default=502, ge=1, le=65535)
    unit_id: int = Field(default=1, ge=0, le=255)
    """The unit (slave) id of addresses that name none."""
    poll_interval: Interval = "1s"
    """How often bindings without a ``group`` are read."""
    groups: dict[str, GroupOptions] = Field(default_factory=dict)
    timeout: Duration = "1s"
    """How long to wait for one answer before it counts as a timeout."""
    retries: int = Field(default=0, ge=0, le=10)
    """Extra attempts of a read that timed out, within the same poll."""
    byte_order: Endian = Endian.BIG
    """Order of the two bytes inside each register, for addresses that name no order."""
    word_order: Endian = Endian.BIG
    """Order of the registers of a 32- or 64-bit value, for addresses that name no order."""
    max_registers_per_read: int = Field(default=MAX_REGISTERS_PER_READ, ge=1, le=125)
    max_gap: int = Field(default=8, ge=0, le=124)
    """Unused registers a read may span to join two neighbouring values into one request."""
    connections: int = Field(default=1, ge=1, le=16)
    """TCP connections opened to the host, shared by all its unit ids (requests in flight)."""

    @property
    def default_order(self) -> str:
        """The order code (abcd, cdab, badc, dcba) that ``byte_order``/``word_order`` spell."""
        words_big = self.word_order is Endian.BIG
        bytes_big = self.byte_order is Endian.BIG
        return {
            (True, True): "abcd",
            (False, True): "cdab",
            (True, False): "badc",
            (False, False): "dcba",
        }[(words_big, bytes_big)]

    @property
    def timeout_s(self) -> float:
        return parse_duration(self.timeout) / 1e6

    def interval_us(self, group: str | None) -> int:
        """The polling interval of ``group`` (None: the default group); KeyError when unknown."""
        if group is None:
            return interval_us(self.poll_interval)
        return interval_us(self.groups[group].interval)

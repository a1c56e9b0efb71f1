"""Modbus source addresses parsed into typed rows (the grammar is ``omp.model.addresses``).

>>> point = parse_address("3:input:100:int32:cdab", default_unit=1, default_order="abcd")
>>> point.unit, point.table.value, point.register, point.kind, point.order, point.size
(3, 'input', 100, 'int32', 'cdab', 2)
>>> parse_address("holding:200:string5", default_unit=1, default_order="abcd").size
3
>>> parse_address("coil:17", default_unit=1, default_order="abcd").kind
'bit'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from omp.core.errors import ConfigError


class Table(StrEnum):
    """The four Modbus data tables; coils and holding registers are writable."""

    COIL = "coil"
    DISCRETE = "discrete"
    INPUT = "input"
    HOLDING = "holding"

    @property
    def is_bits(self) -> bool:
        return self in (Table.COIL, Table.DISCRETE)


REGISTERS_OF: dict[str, int] = {
    "int16": 1,
    "uint16": 1,
    "int32": 2,
    "uint32": 2,
    "float32": 2,
    "int64": 4,
    "uint64": 4,
    "float64": 4,
}

_ADDRESS = re.compile(
    r"^(?:(?P<unit>\d{1,3}):)?(?P<table>coil|discrete|input|holding):(?P<register>\d{1,5})"
    r"(?::(?P<kind>u?int(?:16|32|64)|float(?:32|64)|string\d{1,3})"
    r"(?::(?P<order>abcd|badc|cdab|dcba))?)?$"
)


@dataclass(frozen=True, slots=True)
class ModbusAddress:
    """One value on a device: ``size`` is in registers (in bits for coils and discrete inputs).

    ``kind`` is ``bit``, a numeric type name (``float32``) or ``string<bytes>``.
    """

    text: str
    unit: int
    table: Table
    register: int
    kind: str
    order: str
    size: int

    @property
    def end(self) -> int:
        """The first register (or bit) after this value."""
        return self.register + self.size

    @property
    def is_text(self) -> bool:
        return self.kind.startswith("string")

    @property
    def string_bytes(self) -> int:
        return int(self.kind[6:]) if self.is_text else 0


def parse_address(text: str, *, default_unit: int, default_order: str) -> ModbusAddress:
    """The typed form of ``text``; ``ConfigError`` names an address that does not fit."""
    match = _ADDRESS.match(text)
    if match is None:
        raise ConfigError(
            f"modbus address {text!r} is not "
            "'[<unit id>:]<coil|discrete|input|holding>:<register>[:<type>[:<order>]]'"
        )
    unit = int(match["unit"]) if match["unit"] is not None else default_unit
    table, register = Table(match["table"]), int(match["register"])
    if unit > 255 or register > 65535:
        raise ConfigError(f"modbus address {text!r}: unit id 0-255 and register 0-65535")
    if table.is_bits:
        return ModbusAddress(text, unit, table, register, "bit", "abcd", 1)
    kind = match["kind"] or "int16"
    if kind.startswith("string"):
        length = int(kind[6:])
        if length == 0:
            raise ConfigError(f"modbus address {text!r}: a string holds at least one byte")
        size = (length + 1) // 2
    else:
        size = REGISTERS_OF[kind]
    if register + size > 65536:
        raise ConfigError(f"modbus address {text!r} runs past register 65535")
    return ModbusAddress(text, unit, table, register, kind, match["order"] or default_order, size)

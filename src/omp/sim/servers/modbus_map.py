"""The register map of a simulated machine, one fixed row per signal, and its encoding.

Every machine kind's signals take consecutive registers from 0, in the
catalog's signal order, the same in the holding (function 3) and input
(function 4) tables:

==========================  ===========  =========  ==============================
signal                      type         registers  encoding
==========================  ===========  =========  ==============================
state                       ``uint16``   1          the state code
counter (int)               ``uint32``   2          high word first (``abcd``), wraps at 2^32
other int                   ``int32``    2          high word first (``abcd``)
bool                        ``uint16``   1          0 or 1
float                       ``float32``  2          IEEE 754, high word first (``abcd``)
string                      ``string32`` 16         UTF-8, NUL-padded, cut to 32 bytes
==========================  ===========  =========  ==============================

>>> from omp.sim.catalog import KINDS
>>> for field in register_map(KINDS["press"])[:6]:
...     print(field.register, field.name, field.datatype)
0 state uint16
1 good_count uint32
3 scrap_count uint32
5 current_order string32
21 product string32
37 power float32
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from omp.sim.catalog import MachineKind, SignalKind, SignalSpec
from omp.sim.frame import Value

STRING_BYTES = 32
"""Bytes of every text register field (``string32``: 16 registers)."""

_SIZES = {"uint16": 1, "int32": 2, "uint32": 2, "float32": 2, f"string{STRING_BYTES}": 16}
_FLOAT = struct.Struct(">f")
_INT32 = struct.Struct(">i")
_WORDS = struct.Struct(">HH")
_TEXT = struct.Struct(f">{STRING_BYTES // 2}H")


@dataclass(frozen=True, slots=True)
class RegisterField:
    """Where one signal sits: its first register and its type in the omp address grammar."""

    signal: int
    """Index into ``kind.signals`` (and a frame's value row)."""
    name: str
    register: int
    datatype: str

    @property
    def size(self) -> int:
        return _SIZES[self.datatype]


def _datatype_of(signal: SignalSpec) -> str:
    if signal.datatype == "float":
        return "float32"
    if signal.datatype == "string":
        return f"string{STRING_BYTES}"
    if signal.datatype == "bool" or signal.kind is SignalKind.STATE:
        return "uint16"
    return "uint32" if signal.kind is SignalKind.COUNTER else "int32"


def register_map(kind: MachineKind) -> tuple[RegisterField, ...]:
    """The kind's fields, packed from register 0 in catalog order."""
    if kind.name not in _MAPS:  # kinds are unhashable (they hold a dict), so cache by name
        _MAPS[kind.name] = _pack(kind)
    return _MAPS[kind.name]


_MAPS: dict[str, tuple[RegisterField, ...]] = {}


def _pack(kind: MachineKind) -> tuple[RegisterField, ...]:
    fields = []
    register = 0
    for index, signal in enumerate(kind.signals):
        field = RegisterField(index, signal.name, register, _datatype_of(signal))
        fields.append(field)
        register += field.size
    return tuple(fields)


def register_count(kind: MachineKind) -> int:
    last = register_map(kind)[-1]
    return last.register + last.size


def encode(fields: Sequence[RegisterField], row: Sequence[Value], registers: list[int]) -> None:
    """Write ``row``'s values into ``registers`` (the machine's whole map) in place."""
    for field in fields:
        value = row[field.signal]
        at = field.register
        kind = field.datatype
        if kind == "float32":
            registers[at : at + 2] = _WORDS.unpack(_FLOAT.pack(float(value)))
        elif kind == "uint16":
            registers[at] = int(value) & 0xFFFF
        elif kind == "uint32":
            number = int(value) & 0xFFFFFFFF  # a PLC counter wraps
            registers[at] = number >> 16
            registers[at + 1] = number & 0xFFFF
        elif kind == "int32":
            registers[at : at + 2] = _WORDS.unpack(_INT32.pack(int(value)))
        else:
            registers[at : at + 16] = _TEXT.unpack(_text_bytes(str(value)))


def _text_bytes(text: str) -> bytes:
    """UTF-8, cut to whole characters within ``STRING_BYTES``, NUL-padded."""
    raw = text.encode("utf-8")[:STRING_BYTES]
    raw = raw.decode("utf-8", errors="ignore").encode("utf-8")
    return raw.ljust(STRING_BYTES, b"\0")

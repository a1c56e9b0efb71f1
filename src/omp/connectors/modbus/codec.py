"""Register bytes to numbers and back, for every type and byte order, vectorised.

An order names where the bytes of a value sit on the wire, from its first
register on: ``abcd`` big-endian, ``cdab`` registers swapped, ``badc`` bytes
swapped inside each register, ``dcba`` little-endian. For 64-bit values the
pattern extends naturally (``cdab`` reverses all four registers); for 16-bit
values only the byte swap matters.

>>> wire_positions(2, "cdab").tolist()
[2, 3, 0, 1]
>>> registers_of(encode_number(-2.5, "float32", "cdab")).tolist()
[0, 49184]
>>> float(decode_number(encode_number(-2.5, "float32", "cdab"), "float32", "cdab"))
-2.5
>>> bytes(encode_text("Die-78", 6, "badc"))
b'iD-e87'
>>> decode_text(encode_text("Die-7", 7, "badc"), 7, "badc")
'Die-7'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from omp.connectors.modbus.addresses import REGISTERS_OF, ModbusAddress

DTYPES: dict[str, np.dtype[Any]] = {
    "int16": np.dtype(">i2"),
    "uint16": np.dtype(">u2"),
    "int32": np.dtype(">i4"),
    "uint32": np.dtype(">u4"),
    "int64": np.dtype(">i8"),
    "uint64": np.dtype(">u8"),
    "float32": np.dtype(">f4"),
    "float64": np.dtype(">f8"),
}

_WORDS_REVERSED = {"abcd": False, "badc": False, "cdab": True, "dcba": True}
_BYTES_SWAPPED = {"abcd": False, "cdab": False, "badc": True, "dcba": True}


def wire_positions(registers: int, order: str) -> np.ndarray:
    """For each byte of the big-endian value (most significant first), its wire offset."""
    byte = np.arange(2 * registers)
    word, within = byte // 2, byte % 2
    if _WORDS_REVERSED[order]:
        word = registers - 1 - word
    if _BYTES_SWAPPED[order]:
        within = 1 - within
    return np.asarray(2 * word + within, dtype=np.intp)


def registers_of(wire: np.ndarray) -> np.ndarray:
    """Wire bytes back into register values (uint16)."""
    return np.ascontiguousarray(wire, dtype=np.uint8).view(">u2").astype(np.uint16)


def decode_number(wire: np.ndarray, kind: str, order: str) -> np.generic:
    """One value from its wire bytes (a slow path for writes and tests)."""
    canonical = wire[wire_positions(REGISTERS_OF[kind], order)]
    value: np.generic = np.ascontiguousarray(canonical).view(DTYPES[kind])[0]
    return value


def encode_number(value: float | int, kind: str, order: str) -> np.ndarray:
    """The wire bytes of ``value`` as ``kind`` in ``order``; ``ValueError`` when out of range."""
    dtype = DTYPES[kind]
    if dtype.kind in "iu":
        whole = round(value)
        info = np.iinfo(dtype)
        if not info.min <= whole <= info.max:
            raise ValueError(f"{value!r} is outside {kind} ({info.min}..{info.max})")
        canonical = np.array([whole], dtype=dtype).view(np.uint8)
    else:
        canonical = np.array([value], dtype=dtype).view(np.uint8)
    wire = np.empty_like(canonical)
    wire[wire_positions(REGISTERS_OF[kind], order)] = canonical
    return wire


def encode_text(value: str, nbytes: int, order: str) -> np.ndarray:
    """UTF-8 bytes of ``value`` padded with NULs to the registers of ``nbytes``."""
    raw = value.encode("utf-8")
    if len(raw) > nbytes:
        raise ValueError(f"{value!r} is {len(raw)} bytes; the register holds {nbytes}")
    wire = np.zeros(2 * ((nbytes + 1) // 2), dtype=np.uint8)
    wire[: len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    return _swap_pairs(wire) if _BYTES_SWAPPED[order] else wire


def decode_text(wire: np.ndarray, nbytes: int, order: str) -> str:
    """The text in ``wire``: trailing NULs and spaces stripped, undecodable bytes replaced."""
    if _BYTES_SWAPPED[order]:
        wire = _swap_pairs(wire)
    return bytes(wire[:nbytes]).decode("utf-8", errors="replace").rstrip("\x00 ")


def _swap_pairs(wire: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(wire.reshape(-1, 2)[:, ::-1]).reshape(-1)


@dataclass(frozen=True, slots=True)
class _Run:
    """The values of one type in a read: a slice of the gathered bytes and of the output."""

    dtype: np.dtype[Any]
    first_byte: int
    stop_byte: int
    first: int
    stop: int


class RegisterDecoder:
    """Decodes one register read into float64 values (in ``indices`` order).

    Built once per planned read: one gather puts every value's bytes in
    big-endian order, grouped by type, whatever each value's byte order; each
    type is then one ``view`` of its slice. A read of 125 registers costs a
    handful of numpy calls, not one call per value.
    """

    def __init__(self, start: int, numbers: list[tuple[int, ModbusAddress]]) -> None:
        by_kind: dict[str, list[tuple[int, ModbusAddress]]] = {}
        for index, address in numbers:
            by_kind.setdefault(address.kind, []).append((index, address))
        self.indices: list[int] = []
        self._runs: list[_Run] = []
        offsets: list[np.ndarray] = []
        byte = 0
        for kind, members in by_kind.items():
            first = len(self.indices)
            self.indices.extend(index for index, _ in members)
            offsets.extend(
                2 * (a.register - start) + wire_positions(a.size, a.order) for _, a in members
            )
            size = 2 * REGISTERS_OF[kind] * len(members)
            self._runs.append(_Run(DTYPES[kind], byte, byte + size, first, len(self.indices)))
            byte += size
        self._gather = np.concatenate(offsets) if offsets else np.zeros(0, dtype=np.intp)
        self.size = len(self.indices)

    def numbers(self, wire: np.ndarray) -> np.ndarray:
        """Every numeric value of the read, as float64, in ``indices`` order."""
        gathered = wire[self._gather]
        out = np.empty(self.size, dtype=np.float64)
        with np.errstate(invalid="ignore"):  # a signalling NaN from the device stays a NaN
            for run in self._runs:
                values = gathered[run.first_byte : run.stop_byte].view(run.dtype)
                out[run.first : run.stop] = values
        return out

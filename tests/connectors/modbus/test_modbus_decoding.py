"""Every type and byte order, checked against values encoded independently with ``struct``,
read from a real pymodbus server through the real connector host."""

from __future__ import annotations

import struct
from collections.abc import Iterator

import pytest

from tests.connectors.modbus.model import PLUGINS, Sig, plc_registry
from tests.connectors.modbus.server import ModbusTestServer, Tables
from tests.connectors.support import running_host, wait_for

FORMATS = {
    "int16": ("h", -12345),
    "uint16": ("H", 54321),
    "int32": ("i", -123456789),
    "uint32": ("I", 3_123_456_789),
    "int64": ("q", -1_234_567_890_123),
    "uint64": ("Q", 2**60 + 2**12),
    "float32": ("f", 3.14159),
    "float64": ("d", -1234.5678125),
}
ORDERS = ("abcd", "cdab", "badc", "dcba")


def wire(big_endian: bytes, order: str) -> bytes:
    """The bytes as a device in ``order`` puts them on the wire (written out by hand)."""
    words = [big_endian[i : i + 2] for i in range(0, len(big_endian), 2)]
    if order in ("cdab", "dcba"):
        words.reverse()
    if order in ("badc", "dcba"):
        words = [w[::-1] for w in words]
    return b"".join(words)


def registers(data: bytes) -> list[int]:
    return list(struct.unpack(f">{len(data) // 2}H", data))


class Layout:
    """Values placed one after another in holding and input registers of unit 1."""

    def __init__(self) -> None:
        self.holding: list[int] = []
        self.input: list[int] = []
        self.expected: dict[str, float | str] = {}

    def put(self, table: str, suffix: str, data: bytes, expected: float | str) -> None:
        regs = self.holding if table == "holding" else self.input
        address = f"{table}:{len(regs)}:{suffix}"
        regs.extend(registers(data))
        self.expected[address] = expected


@pytest.fixture
def layout() -> Layout:
    layout = Layout()
    for table in ("holding", "input"):
        for kind, (fmt, value) in FORMATS.items():
            canonical = struct.pack(f">{fmt}", value)
            decoded = struct.unpack(f">{fmt}", canonical)[0]
            for order in ORDERS:
                layout.put(table, f"{kind}:{order}", wire(canonical, order), decoded)
    layout.put("holding", "string10", b"Die-7\x00\x00\x00\x00\x00", "Die-7")
    layout.put("holding", "string7:badc", wire(b"ORD 42  ", "badc"), "ORD 42")
    layout.put("holding", "string3", b"AB\xff\x00", "AB\ufffd")
    layout.holding.extend([0] * 10)
    layout.input.extend([0] * 10)
    return layout


@pytest.fixture
def server(layout: Layout) -> Iterator[ModbusTestServer]:
    tables = Tables(
        holding=layout.holding,
        input=layout.input,
        coils=[True, False, False, True] * 8,
        discrete=[False, True] * 16,
    )
    server = ModbusTestServer({1: tables})
    server.start()
    yield server
    server.stop()


def test_every_type_and_order_decodes_like_struct(server: ModbusTestServer, layout: Layout) -> None:
    signals = {f"v{i:03d}": Sig(address) for i, address in enumerate(layout.expected)}
    for name, sig in signals.items():
        if "string" in sig.address:
            signals[name] = Sig(sig.address, datatype="string", kind="text")
    signals |= {"c3": Sig("coil:3"), "c5": Sig("coil:5"), "d1": Sig("discrete:1")}
    registry = plc_registry({"host": "127.0.0.1", "port": server.port}, signals)

    with running_host(registry, PLUGINS) as (_, sink):
        wait_for(lambda: len(sink.addresses()) == len(signals), what="every address read")
        for address, expected in layout.expected.items():
            got = sink.values(address)[0]
            assert got == expected, f"{address}: {got!r} != {expected!r}"
        assert sink.values("coil:3")[0] == 1.0
        assert sink.values("coil:5")[0] == 0.0
        assert sink.values("discrete:1")[0] == 1.0

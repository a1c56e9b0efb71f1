"""Which reads a poll makes: values grouped per (unit, table, group), merged into requests.

Values are sorted by register and joined into one request while the gap
between them is at most ``max_gap`` registers and the request stays within
the Modbus limit (125 registers, 2000 bits); a value is never split across
requests. Coils and discrete inputs allow a gap of ``16 * max_gap`` bits,
the same bytes on the wire.

>>> from omp.connectors.modbus.addresses import parse_address
>>> points = [parse_address(f"holding:{r}:float32", default_unit=1, default_order="abcd")
...           for r in (0, 2, 4, 20, 300)]
>>> [(s, n) for s, n, _ in coalesce(points, max_count=125, max_gap=10)]
[(0, 6), (20, 2), (300, 2)]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from omp.connectors.modbus.addresses import ModbusAddress, Table
from omp.connectors.modbus.codec import RegisterDecoder
from omp.connectors.modbus.options import MAX_BITS_PER_READ, ModbusOptions

Block = tuple[int, int, list[ModbusAddress]]
"""A planned read: first register, count, and the values it carries."""


def coalesce(points: Iterable[ModbusAddress], *, max_count: int, max_gap: int) -> list[Block]:
    """Merge values of one (unit, table) into reads; see the module docstring."""
    blocks: list[Block] = []
    start, end, members = 0, 0, list[ModbusAddress]()
    for point in sorted(points, key=lambda p: (p.register, p.size)):
        fits = point.register - end <= max_gap and max(end, point.end) - start <= max_count
        if members and fits:
            end = max(end, point.end)
            members.append(point)
            continue
        if members:
            blocks.append((start, end - start, members))
        start, end, members = point.register, point.end, [point]
    if members:
        blocks.append((start, end - start, members))
    return blocks


@dataclass(slots=True)
class ReadRequest:
    """One read of a poll, with everything needed to decode and report it."""

    unit: int
    table: Table
    start: int
    count: int
    device: str
    """The health device: ``<host>:<port>/unit <id>``."""
    numbers: RegisterDecoder | None
    bits: list[tuple[int, int]] = field(default_factory=list)
    """(feed index, bit offset in the read) of each coil or discrete input."""
    texts: list[tuple[int, ModbusAddress]] = field(default_factory=list)
    """(feed index, address) of each string."""
    values: int = 0
    label: str = field(init=False)
    """The register range for messages: ``holding 100-224 of unit 3``."""

    def __post_init__(self) -> None:
        last = self.start + self.count - 1
        self.label = f"{self.table.value} {self.start}-{last} of unit {self.unit}"


@dataclass(frozen=True, slots=True)
class PollGroup:
    name: str
    interval_us: int
    requests: list[ReadRequest]


def plan_reads(
    grouped: dict[str | None, list[ModbusAddress]],
    options: ModbusOptions,
    index_of: Callable[[str], int],
) -> list[PollGroup]:
    """The reads of each polling group (None is the default group)."""
    groups: list[PollGroup] = []
    for group, points in grouped.items():
        requests = [
            _request(unit, table, block, options, index_of)
            for (unit, table), members in _by_table(points).items()
            for block in coalesce(
                members,
                max_count=MAX_BITS_PER_READ if table.is_bits else options.max_registers_per_read,
                max_gap=options.max_gap * 16 if table.is_bits else options.max_gap,
            )
        ]
        groups.append(PollGroup(group or "default", options.interval_us(group), requests))
    return groups


def _by_table(points: list[ModbusAddress]) -> dict[tuple[int, Table], list[ModbusAddress]]:
    tables: dict[tuple[int, Table], list[ModbusAddress]] = {}
    for point in points:
        tables.setdefault((point.unit, point.table), []).append(point)
    return tables


def _request(
    unit: int, table: Table, block: Block, options: ModbusOptions, index_of: Callable[[str], int]
) -> ReadRequest:
    start, count, members = block
    device = f"{options.host}:{options.port}/unit {unit}"
    if table.is_bits:
        bits = [(index_of(p.text), p.register - start) for p in members]
        return ReadRequest(unit, table, start, count, device, None, bits=bits, values=len(bits))
    numbers = [(index_of(p.text), p) for p in members if not p.is_text]
    texts = [(index_of(p.text), p) for p in members if p.is_text]
    decoder = RegisterDecoder(start, numbers) if numbers else None
    return ReadRequest(unit, table, start, count, device, decoder, texts=texts, values=len(members))

"""The simulated plant's shape: one enterprise, two sites, lines of machines.

``build_plant(machines)`` lays out about ``machines`` machines (never fewer
than one full line of each kind per site) as a real enterprise would have
them: a body shop with press and welding lines, a machining area of CNC
cells, and packaging lines where a filler feeds a capper, a labeler and a
palletizer. Each machine is served over one protocol; the assignment is
fixed by position so the same plant always looks the same on the wire.

The plant is pure data and deterministic: the same arguments give the same
plant, and adding machines appends lines without renaming existing ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from omp.sim.catalog import KINDS, MachineKind


class Served(StrEnum):
    """The protocol a machine is served over (named as the connectors' protocols)."""

    OPCUA = "opcua"
    SPARKPLUG = "sparkplug"
    MODBUS = "modbus"
    MQTT = "mqtt"


@dataclass(frozen=True, slots=True)
class MachineSpec:
    """One machine: where it sits, what it is, and how it is served."""

    index: int
    """Position in ``Plant.machines`` (dense, 0-based): the simulator's array index."""
    name: str
    """Equipment name, unique within its cell, e.g. ``press_01``."""
    kind: MachineKind
    site: str
    area: str
    line: str
    cell: str
    position: int
    """Place in the line's flow, 0 first: position n takes parts from n-1."""
    served: Served
    serial: str

    @property
    def path(self) -> str:
        """The unified-namespace path below the enterprise: site/area/line/cell/equipment."""
        return f"{self.site}/{self.area}/{self.line}/{self.cell}/{self.name}"


@dataclass(frozen=True, slots=True)
class LineSpec:
    """A line: machines in flow order (one cell per machine)."""

    site: str
    area: str
    name: str
    kind: str
    """``press``, ``welding``, ``machining`` or ``packaging``."""
    machines: tuple[MachineSpec, ...]
    buffer_size: int
    """Parts each buffer between two machines holds."""


@dataclass(frozen=True, slots=True)
class SiteSpec:
    name: str
    timezone: str
    """IANA zone the shift calendar runs in."""
    lines: tuple[LineSpec, ...]


@dataclass(frozen=True, slots=True)
class Plant:
    enterprise: str
    sites: tuple[SiteSpec, ...]
    machines: tuple[MachineSpec, ...]
    """Every machine, in ``index`` order."""

    @property
    def lines(self) -> tuple[LineSpec, ...]:
        return tuple(line for site in self.sites for line in site.lines)

    def machine(self, path: str) -> MachineSpec:
        for machine in self.machines:
            if machine.path == path:
                return machine
        raise KeyError(f"the plant has no machine {path!r}")


ENTERPRISE = "acme"
SITES = (("munich", "Europe/Berlin"), ("austin", "America/Chicago"))

# One line template per line kind: (area, line kind, [(machine kind, count)], buffer size).
_TEMPLATES: tuple[tuple[str, str, tuple[tuple[str, int], ...], int], ...] = (
    ("body_shop", "press", (("press", 2),), 40),
    ("body_shop", "welding", (("welding_robot", 4),), 10),
    ("machining", "machining", (("cnc_mill", 3),), 8),
    (
        "packaging",
        "packaging",
        (("filler", 1), ("capper", 1), ("labeler", 1), ("palletizer", 1)),
        200,
    ),
)

# Which protocol serves a line, by line kind and site: every protocol appears at both sites' scale.
_SERVED: dict[tuple[str, int], Served] = {
    ("press", 0): Served.MODBUS,
    ("welding", 0): Served.OPCUA,
    ("machining", 0): Served.OPCUA,
    ("packaging", 0): Served.SPARKPLUG,
    ("press", 1): Served.MODBUS,
    ("welding", 1): Served.SPARKPLUG,
    ("machining", 1): Served.OPCUA,
    ("packaging", 1): Served.MQTT,
}


def build_plant(machines: int = 26) -> Plant:
    """A plant of about ``machines`` machines (at least 26: one line of each kind per site).

    Lines are added round robin over sites and line kinds until the count is
    reached, so ``build_plant(3000)`` is a large plant of the same shape.
    """
    per_round = len(SITES) * sum(sum(n for _, n in t[2]) for t in _TEMPLATES)
    rounds = max(1, -(-machines // per_round))
    specs: list[MachineSpec] = []
    sites: list[SiteSpec] = []
    for site_number, (site, timezone) in enumerate(SITES):
        lines: list[LineSpec] = []
        for number in range(1, rounds + 1):
            for area, line_kind, members, buffer_size in _TEMPLATES:
                line_name = f"{line_kind}_{number:02d}"
                served = _SERVED[(line_kind, site_number)]
                line_machines: list[MachineSpec] = []
                position = 0
                for kind_name, count in members:
                    for k in range(1, count + 1):
                        name = f"{kind_name}_{k:02d}"
                        line_machines.append(
                            MachineSpec(
                                index=-1,
                                name=name,
                                kind=KINDS[kind_name],
                                site=site,
                                area=area,
                                line=line_name,
                                cell=f"cell_{position + 1:02d}",
                                position=position,
                                served=served,
                                serial=f"{site[:3].upper()}-{line_name.upper()}-{position + 1:02d}",
                            )
                        )
                        position += 1
                lines.append(
                    LineSpec(site, area, line_name, line_kind, tuple(line_machines), buffer_size)
                )
        sites.append(SiteSpec(site, timezone, tuple(lines)))
    # Number machines densely in site, line order.
    numbered_sites: list[SiteSpec] = []
    for site_spec in sites:
        numbered_lines = []
        for line in site_spec.lines:
            numbered = tuple(_with_index(m, len(specs) + i) for i, m in enumerate(line.machines))
            specs.extend(numbered)
            numbered_lines.append(
                LineSpec(line.site, line.area, line.name, line.kind, numbered, line.buffer_size)
            )
        numbered_sites.append(SiteSpec(site_spec.name, site_spec.timezone, tuple(numbered_lines)))
    return Plant(ENTERPRISE, tuple(numbered_sites), tuple(specs))


def _with_index(machine: MachineSpec, index: int) -> MachineSpec:
    return MachineSpec(
        index,
        machine.name,
        machine.kind,
        machine.site,
        machine.area,
        machine.line,
        machine.cell,
        machine.position,
        machine.served,
        machine.serial,
    )

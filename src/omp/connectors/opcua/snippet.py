"""The factory-model snippet ``omp discover opcua`` writes: a connector, equipment types
inferred from the browsed objects, and equipment bound by NodeId.

Objects of the same specific type definition share one equipment type named
after it; objects without one share a type when their signals are the same,
named after the object without its trailing number (``Mill01`` -> ``mill``).
Booleans become state signals, strings text signals, numbers measurements;
units are UCUM, and a unit without a mapping is left out with a comment.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from omp.connectors.opcua.discovery import FoundObject, FoundVariable
from omp.model.kinds import Datatype, Kind
from omp.model.names import suggest_name

_KINDS = {Datatype.BOOL: Kind.STATE, Datatype.STRING: Kind.TEXT}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_TRAILING_NUMBER = re.compile(r"[\d_\-\s.]+$")


@dataclass(slots=True)
class _Type:
    name: str
    signals: dict[str, FoundVariable] = field(default_factory=dict)
    skipped: dict[str, FoundVariable] = field(default_factory=dict)


def name_of(text: str, fallback: str) -> str:
    """A model name from a BrowseName: ``SpindleSpeed`` -> ``spindle_speed``."""
    return suggest_name(_CAMEL.sub("_", text)) or fallback


def render(objects: Iterable[FoundObject], *, endpoint: str, connector: str) -> str:
    """The YAML text of the snippet (see the module docstring)."""
    types: dict[tuple[object, ...], _Type] = {}
    equipment: list[tuple[str, _Type, FoundObject]] = []
    taken_types: set[str] = set()
    taken_equipment: set[str] = set()
    for found in objects:
        key = _type_key(found)
        if key not in types:
            base = (found.type_name or "").removesuffix("Type") or _TRAILING_NUMBER.sub(
                "", found.name
            )
            types[key] = _Type(_unique(name_of(base, "equipment"), taken_types))
        eq_type = types[key]
        for variable in found.variables:
            bucket = eq_type.skipped if variable.skipped else eq_type.signals
            bucket.setdefault(name_of(variable.name, "signal"), variable)
        equipment.append(
            (_unique(name_of(found.name, "equipment"), taken_equipment), eq_type, found)
        )
    lines = [
        f"# Discovered by `omp discover opcua {endpoint}`.",
        "# Copy 'connectors' and 'equipment_types' into your model and move the",
        "# 'equipment' entries under a cell: sites/<site>/areas/<area>/lines/<line>/cells/<cell>.",
        "connectors:",
        f"  {connector}:",
        "    protocol: opcua",
        f"    endpoint: {json.dumps(endpoint)}",
        "equipment_types:",
    ]
    for eq_type in types.values():
        lines.extend(_type_lines(eq_type))
    lines.append("equipment:" if equipment else "equipment: {}")
    for name, eq_type, found in equipment:
        lines.extend(_equipment_lines(name, eq_type, found, connector))
    return "\n".join(lines) + "\n"


def _type_key(found: FoundObject) -> tuple[object, ...]:
    if found.type_name:
        return ("type", found.type_name)
    shape = sorted((name_of(v.name, "signal"), v.datatype, v.unit) for v in found.variables)
    return ("shape", tuple(shape))


def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}_{number}", number + 1
    taken.add(candidate)
    return candidate


def _type_lines(eq_type: _Type) -> list[str]:
    lines = [f"  {eq_type.name}:"]
    if not eq_type.signals:
        # A type needs a signal; an object with only unusable variables still gets one
        # placeholder so the snippet loads (delete the type if it is of no use).
        lines += ["    signals:", "      placeholder: {datatype: string, kind: text}"]
    else:
        lines.append("    signals:")
    for name, variable in eq_type.signals.items():
        assert variable.datatype is not None  # skipped variables are kept apart
        kind = _KINDS.get(variable.datatype, Kind.MEASUREMENT)
        fields = [f"datatype: {variable.datatype.value}", f"kind: {kind.value}"]
        if variable.unit is not None:
            fields.append(f"unit: {json.dumps(variable.unit)}")
        comment = ""
        if variable.unit_unmapped is not None:
            comment = f"  # unit {variable.unit_unmapped} has no UCUM mapping: add it by hand"
        lines.append(f"      {name}: {{{', '.join(fields)}}}{comment}")
    for name, variable in eq_type.skipped.items():
        lines.append(f"      # left out {name} ({variable.node_id}): {variable.skipped}")
    return lines


def _equipment_lines(name: str, eq_type: _Type, found: FoundObject, connector: str) -> list[str]:
    lines = [
        f"  {name}:",
        f"    type: {eq_type.name}",
        f"    description: {json.dumps(f'OPC UA object {found.node_id}')}",
        f"    connector: {connector}",
        "    bindings:" if any(not v.skipped for v in found.variables) else "    bindings: {}",
    ]
    bound: set[str] = set()
    for variable in found.variables:
        signal = name_of(variable.name, "signal")
        if not variable.skipped and signal not in bound:
            bound.add(signal)
            lines.append(f"      {signal}: {json.dumps(variable.node_id)}")
    return lines

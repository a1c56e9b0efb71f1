"""Rules across the file: types, connectors and bindings referenced from equipment.

They run on whatever validated, so a broken site does not hide an unknown
connector in another one: all problems are reported at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from omp.model.addresses import address_problem
from omp.model.kinds import UNIT_KINDS
from omp.model.names import did_you_mean, unknown
from omp.model.problems import FilePath, Problem, format_path
from omp.model.rules import kpi_rule_errors
from omp.model.schema import BindingSpec, Connector, Equipment, EquipmentType, SignalSpec
from omp.model.units import DIMENSIONLESS, UnitError, conversion
from omp.model.yamlsource import SourceDoc


@dataclass(slots=True)
class Parts:
    """The validated pieces of a model, and the names of all pieces, valid or not."""

    types: dict[str, EquipmentType] = field(default_factory=dict)
    type_names: set[str] = field(default_factory=set)
    signal_names: dict[str, set[str]] = field(default_factory=dict)
    """Per type, every signal name written, valid or not."""
    connectors: dict[str, Connector] = field(default_factory=dict)
    connector_names: set[str] = field(default_factory=set)
    equipment: list[tuple[FilePath, Equipment]] = field(default_factory=list)


def signal_unit(spec: SignalSpec) -> str | None:
    """The unit a signal's values are stored in: its unit, ``1`` for a bare quantity, else None."""
    if spec.kind in UNIT_KINDS and spec.datatype.is_numeric:
        return spec.unit or DIMENSIONLESS
    return None


def cross_problems(parts: Parts, doc: SourceDoc) -> Iterator[Problem]:
    """Every problem between equipment and the types and connectors it names."""
    bound: dict[tuple[str, str], FilePath] = {}
    for path, equipment in parts.equipment:
        yield from _equipment_problems(path, equipment, parts, doc, bound)


def _equipment_problems(
    path: FilePath,
    equipment: Equipment,
    parts: Parts,
    doc: SourceDoc,
    bound: dict[tuple[str, str], FilePath],
) -> Iterator[Problem]:
    if equipment.type not in parts.type_names:
        message = unknown("equipment type", equipment.type, parts.type_names)
        yield doc.problem((*path, "type"), message)
    default = equipment.connector
    if default is not None and default not in parts.connector_names:
        yield _unknown_connector(doc, (*path, "connector"), default, parts)
    eq_type = parts.types.get(equipment.type)
    if eq_type is None:
        return  # unknown or itself invalid: its problems are reported already
    merged = eq_type.kpi.merged(equipment.kpi)
    for sub_path, message in kpi_rule_errors(
        merged, equipment.kpi.model_fields_set, eq_type.signals
    ):
        yield doc.problem((*path, "kpi", *sub_path), message)
    for name, binding in equipment.bindings.items():
        where = (*path, "bindings", name)
        spec = eq_type.signals.get(name)
        if spec is None and name in parts.signal_names.get(equipment.type, ()):
            continue  # the signal is there but invalid: reported at the type
        if spec is None:
            hint = did_you_mean(name, eq_type.signals)
            yield doc.problem(where, f"type {equipment.type!r} has no signal {name!r}{hint}")
            continue
        yield from _binding_problems(where, binding, spec, default, parts, doc, bound)


def _unknown_connector(doc: SourceDoc, where: FilePath, name: str, parts: Parts) -> Problem:
    return doc.problem(where, unknown("connector", name, parts.connector_names))


def _binding_problems(
    where: FilePath,
    binding: BindingSpec,
    spec: SignalSpec,
    default: str | None,
    parts: Parts,
    doc: SourceDoc,
    bound: dict[tuple[str, str], FilePath],
) -> Iterator[Problem]:
    connector = binding.connector or default
    if connector is None:
        yield doc.problem(where, "no connector: set 'connector' on the equipment or the binding")
    elif binding.connector is not None and binding.connector not in parts.connector_names:
        yield _unknown_connector(doc, (*where, "connector"), binding.connector, parts)
    else:
        yield from _address_problems(where, binding.address, parts.connectors.get(connector), doc)
        key = (connector, binding.address)
        first = bound.setdefault(key, where)
        if first != where:
            yield doc.problem(
                (*where, "address"),
                f"address {binding.address!r} on connector {connector!r} is already bound "
                f"at line {doc.line_of(first)} ({format_path(first)})",
            )
    yield from _unit_problems(where, binding, spec, doc)


def _address_problems(
    where: FilePath, address: str, connector: Connector | None, doc: SourceDoc
) -> Iterator[Problem]:
    if connector is not None:
        problem = address_problem(connector.protocol, address)
        if problem is not None:
            yield doc.problem((*where, "address"), problem)


def _unit_problems(
    where: FilePath, binding: BindingSpec, spec: SignalSpec, doc: SourceDoc
) -> Iterator[Problem]:
    target = signal_unit(spec)
    if target is None:
        what = f"{spec.kind.with_article} signal of datatype {spec.datatype}"
        if binding.unit is not None:
            yield doc.problem((*where, "unit"), f"{what} has no unit to convert to")
        if binding.scale != 1.0 or binding.offset != 0.0:
            yield doc.problem(where, f"{what} takes its values as they are; drop scale and offset")
        return
    if binding.unit is not None:
        try:
            conversion(binding.unit, target)
        except UnitError as exc:
            yield doc.problem((*where, "unit"), str(exc))


def model_parts(types: Mapping[str, EquipmentType], connectors: Mapping[str, Connector]) -> Parts:
    """Parts of a fully valid model (its equipment is added by the caller)."""
    return Parts(
        types=dict(types),
        type_names=set(types),
        signal_names={name: set(t.signals) for name, t in types.items()},
        connectors=dict(connectors),
        connector_names=set(connectors),
    )

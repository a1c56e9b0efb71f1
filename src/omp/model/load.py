"""Load factory.yaml: parse, validate, check across the file, report every problem.

>>> problems = check_model("examples/factory.yaml")
>>> problems
[]

``omp check`` prints ``str(problem)`` for each, one line per problem:
``factory.yaml:42: sites.munich.timezone: unknown time zone 'Europe/Munich' ...``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from omp.model.checks import Parts, cross_problems, model_parts
from omp.model.diagnose import validation_problems
from omp.model.kinds import Protocol
from omp.model.problems import FilePath, ModelInvalid, Problem, sort_problems
from omp.model.schema import (
    Connector,
    Equipment,
    EquipmentType,
    FactoryModel,
    KpiParams,
    SignalSpec,
)
from omp.model.yamlsource import SourceDoc, parse_source, read_source

M = TypeVar("M", bound=BaseModel)

TREE_LEVELS = ("sites", "areas", "lines", "cells", "equipment")
"""The keys that lead from the root down to one equipment, one per ISA-95 level."""


OptionsCheck = Callable[[Protocol, Mapping[str, Any]], Sequence[tuple[tuple[str | int, ...], str]]]
"""Checks one connector's protocol options: ``(path inside the connector, message)`` pairs.

The model does not know the connectors' option schemas (they live above it);
the runtime passes the check in, so ``omp check`` reports bad options with
their line like every other problem.
"""


def load_model(path: Path | str, *, check_options: OptionsCheck | None = None) -> FactoryModel:
    """Read and validate a model file.

    Raises ``ModelInvalid`` carrying every problem found, and ``ConfigError``
    when the file cannot be read at all.
    """
    model, problems = validate_source(read_source(path), check_options=check_options)
    if model is None or problems:
        raise ModelInvalid(problems)
    return model


def check_model(path: Path | str, *, check_options: OptionsCheck | None = None) -> list[Problem]:
    """Every problem in a model file, in file order; empty when the file is valid.

    Raises ``ConfigError`` only when the file cannot be read at all.
    """
    return validate_source(read_source(path), check_options=check_options)[1]


def parse_model(
    text: str, *, file: str = "factory.yaml", check_options: OptionsCheck | None = None
) -> FactoryModel:
    """Validate model text held in memory; ``file`` names it in problems."""
    model, problems = validate_source(parse_source(text, file=file), check_options=check_options)
    if model is None or problems:
        raise ModelInvalid(problems)
    return model


def validate_source(
    doc: SourceDoc, *, check_options: OptionsCheck | None = None
) -> tuple[FactoryModel | None, list[Problem]]:
    """The model (None when the structure is invalid) and every problem, in file order."""
    problems = list(doc.problems)
    if doc.data is None:
        return None, problems
    if not isinstance(doc.data, dict):
        problems.append(doc.problem((), "the file must hold a mapping (key: value lines)"))
        return None, problems
    model: FactoryModel | None
    try:
        model = FactoryModel.model_validate(doc.data)
    except ValidationError as exc:
        model = None
        problems.extend(validation_problems(exc, doc, FactoryModel))
        parts = _salvaged_parts(doc.data)
    else:
        parts = model_parts(model.equipment_types, model.connectors)
        parts.equipment = list(iter_equipment(model))
    problems.extend(cross_problems(parts, doc))
    if check_options is not None:
        for name, connector in parts.connectors.items():
            for where, message in check_options(connector.protocol, connector.options):
                problems.append(doc.problem(("connectors", name, *where), message))
    return model, sort_problems(problems)


def iter_equipment(model: FactoryModel) -> Iterator[tuple[FilePath, Equipment]]:
    """Every equipment with its path in the file, in file order."""
    for site_name, site in model.sites.items():
        for area_name, area in site.areas.items():
            for line_name, line in area.lines.items():
                for cell_name, cell in line.cells.items():
                    for name, equipment in cell.equipment.items():
                        names = (site_name, area_name, line_name, cell_name, name)
                        yield _file_path(names), equipment


def _file_path(names: tuple[str, ...]) -> FilePath:
    return tuple(step for pair in zip(TREE_LEVELS, names, strict=True) for step in pair)


def _salvaged_parts(data: dict[Any, Any]) -> Parts:
    """The pieces that validate on their own, so cross-file checks still run."""
    parts = Parts()
    raw_types = _mapping(data.get("equipment_types"))
    parts.type_names = {str(k) for k in raw_types}
    for name, raw in raw_types.items():
        salvaged = _salvaged_type(raw)
        if salvaged is not None:
            parts.types[str(name)] = salvaged
            parts.signal_names[str(name)] = {str(k) for k in _mapping(_mapping(raw).get("signals"))}
    parts.connectors = _valid_entries(data.get("connectors"), Connector)
    parts.connector_names = {str(k) for k in _mapping(data.get("connectors"))}
    parts.equipment = [
        (path, equipment)
        for path, raw in _raw_equipment(data, TREE_LEVELS, ())
        if (equipment := _valid(raw, Equipment)) is not None
    ]
    return parts


def _salvaged_type(raw: Any) -> EquipmentType | None:
    """A type with its valid signals only; None when even that does not hold together."""
    whole = _valid(raw, EquipmentType)
    if whole is not None:
        return whole
    signals = _valid_entries(_mapping(raw).get("signals"), SignalSpec)
    kpi = _valid(_mapping(raw).get("kpi", {}), KpiParams)
    if not signals or kpi is None:
        return None
    # Checked field by field above; the cross-type rules were reported by the full validation.
    return EquipmentType.model_construct(signals=signals, kpi=kpi)


def _raw_equipment(
    node: Any, levels: tuple[str, ...], path: FilePath
) -> Iterator[tuple[FilePath, Any]]:
    level, rest = levels[0], levels[1:]
    for name, child in _mapping(_mapping(node).get(level)).items():
        child_path = (*path, level, name)
        if rest:
            yield from _raw_equipment(child, rest, child_path)
        else:
            yield child_path, child


def _mapping(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _valid_entries(raw: Any, model: type[M]) -> dict[str, M]:
    return {
        str(name): valid
        for name, entry in _mapping(raw).items()
        if (valid := _valid(entry, model)) is not None
    }


def _valid(raw: Any, model: type[M]) -> M | None:
    try:
        return model.model_validate(raw)
    except ValidationError:
        return None

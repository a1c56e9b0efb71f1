"""Compile a validated model into a Registry: paths, stable ids, bindings, version.

>>> from omp.model.load import load_model
>>> class Counting:
...     def ensure_ids(self, paths):
...         return {path: number for number, path in enumerate(sorted(paths), 1)}
>>> registry = compile_model(load_model("examples/factory.yaml"), ids=Counting())
>>> registry.signal("acme/munich/machining/line_1/milling/mill_01/spindle_temp").unit
'Cel'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping

from omp.core.errors import ConfigError
from omp.core.sink import SignalIdSource
from omp.model.checks import cross_problems, model_parts, signal_unit
from omp.model.load import iter_equipment
from omp.model.mapping import MapRule
from omp.model.problems import FilePath, ModelInvalid
from omp.model.registry import EquipmentNode, Registry, Signal, SourceBinding
from omp.model.schema import Equipment, FactoryModel, SignalSpec
from omp.model.units import IDENTITY, Affine, conversion
from omp.model.yamlsource import SourceDoc

VERSION_LENGTH = 12
_MAX_ID = 2**31 - 1  # ids travel in int32 batch columns


def model_version(model: FactoryModel) -> str:
    """Content hash of a validated model: canonical JSON, so comments, key order and
    equivalent spellings (``60s`` and ``1min``) do not change it; short hex."""
    canonical = json.dumps(
        model.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:VERSION_LENGTH]


def compile_model(model: FactoryModel, *, ids: SignalIdSource) -> Registry:
    """The Registry of ``model``; ``ids`` hands out the stable signal ids (the historian's catalog).

    Raises ``ModelInvalid`` when the model breaks a rule across the file (a
    model from ``load_model`` never does), and ``ConfigError`` when the id
    source does not answer every path with a usable id.
    """
    _check_cross_rules(model)
    nodes = [(path, eq, _node(path, eq, model)) for path, eq in iter_equipment(model)]
    specs = [
        (node, name, spec)
        for _, _, node in nodes
        for name, spec in model.equipment_types[node.type].signals.items()
    ]
    id_map = _ensure_ids([f"{node.path}/{name}" for node, name, _ in specs], ids)
    signals = {
        f"{node.path}/{name}": _signal(node, name, spec, id_map[f"{node.path}/{name}"])
        for node, name, spec in specs
    }
    bindings: dict[str, dict[str, SourceBinding]] = {}
    for _, equipment, node in nodes:
        for binding in _bindings(equipment, node, signals):
            bindings.setdefault(binding.connector, {})[binding.address] = binding
    rules = {
        name: tuple(MapRule.parse(rule.source, rule.signal) for rule in connector.map)
        for name, connector in model.connectors.items()
        if connector.map
    }
    return Registry(
        model=model,
        version=model_version(model),
        signals=list(signals.values()),
        equipment=[node for _, _, node in nodes],
        bindings=bindings,
        rules=rules,
    )


def _check_cross_rules(model: FactoryModel) -> None:
    parts = model_parts(model.equipment_types, model.connectors)
    parts.equipment = list(iter_equipment(model))
    problems = list(cross_problems(parts, SourceDoc(file="<model>", data=None)))
    if problems:
        raise ModelInvalid(problems)


def _node(file_path: FilePath, equipment: Equipment, model: FactoryModel) -> EquipmentNode:
    names = [str(step) for step in file_path[1::2]]
    eq_type = model.equipment_types[equipment.type]
    site = model.sites[names[0]]
    return EquipmentNode(
        path="/".join([model.enterprise, *names]),
        name=names[-1],
        type=equipment.type,
        site=names[0],
        timezone=site.timezone,
        attributes={**eq_type.attributes, **equipment.attributes},
        kpi=eq_type.kpi.merged(equipment.kpi),
        description=equipment.description or eq_type.description,
        signals=tuple(eq_type.signals),
    )


def _signal(node: EquipmentNode, name: str, spec: SignalSpec, signal_id: int) -> Signal:
    return Signal(
        id=signal_id,
        path=f"{node.path}/{name}",
        name=name,
        datatype=spec.datatype,
        kind=spec.kind,
        unit=signal_unit(spec),
        states=dict(spec.states or {}),
        equipment=node,
        description=spec.description,
    )


def _ensure_ids(paths: list[str], ids: SignalIdSource) -> Mapping[str, int]:
    answer = ids.ensure_ids(paths)
    seen: dict[int, str] = {}
    for path in paths:
        signal_id = answer.get(path)
        if not isinstance(signal_id, int) or not 0 <= signal_id <= _MAX_ID:
            raise ConfigError(f"the signal id source gave no usable id for {path!r}: {signal_id!r}")
        if signal_id in seen:
            raise ConfigError(
                f"the signal id source gave id {signal_id} to both {seen[signal_id]!r} and {path!r}"
            )
        seen[signal_id] = path
    return answer


def _bindings(
    equipment: Equipment, node: EquipmentNode, signals: Mapping[str, Signal]
) -> Iterator[SourceBinding]:
    for name, spec in equipment.bindings.items():
        signal = signals[f"{node.path}/{name}"]
        connector = spec.connector or equipment.connector
        assert connector is not None  # guaranteed by the cross-file checks
        raw = Affine(spec.scale, spec.offset)
        source_unit = spec.unit or signal.unit
        unit_step = IDENTITY
        if signal.unit is not None and source_unit is not None:
            unit_step = conversion(source_unit, signal.unit)
        yield SourceBinding(
            connector=connector,
            address=spec.address,
            signal=signal,
            source_unit=source_unit,
            scale=spec.scale,
            offset=spec.offset,
            conversion=raw.then(unit_step),
            group=spec.group,
        )

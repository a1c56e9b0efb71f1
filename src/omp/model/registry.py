"""The compiled model: every signal with its id and path, lookups, and source bindings.

A ``Registry`` is immutable and built once by ``compile_model``. Lookups are
plain dict reads; ``bindings_for(connector)`` hands ingest the plain dict it
resolves a batch's addresses with.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from omp.core.errors import UnknownSignalError
from omp.model.glob import is_pattern, pattern_regex
from omp.model.kinds import Datatype, Kind
from omp.model.mapping import MapRule
from omp.model.names import did_you_mean
from omp.model.schema import AttributeValue, FactoryModel, KpiParams
from omp.model.units import IDENTITY, Affine, conversion


@dataclass(frozen=True, slots=True)
class EquipmentNode:
    """One compiled equipment: its type's attributes and KPI parameters with its overrides."""

    path: str
    name: str
    type: str
    site: str
    timezone: str
    """The IANA time zone of its site (shifts and calendars are local)."""
    attributes: Mapping[str, AttributeValue]
    kpi: KpiParams
    description: str | None
    signals: tuple[str, ...]
    """Signal names, in the type's order."""

    def __hash__(self) -> int:  # the mappings inside are not hashable; the path identifies
        return hash(self.path)


@dataclass(frozen=True, slots=True)
class Signal:
    """One typed value stream. ``unit`` is None for states, text, events and bools."""

    id: int
    path: str
    name: str
    datatype: Datatype
    kind: Kind
    unit: str | None
    states: Mapping[int, str]
    equipment: EquipmentNode
    description: str | None = None

    def __hash__(self) -> int:  # the mappings inside are not hashable; the id identifies
        return hash(self.id)

    @property
    def equipment_path(self) -> str:
        return self.equipment.path

    @property
    def equipment_type(self) -> str:
        return self.equipment.type

    @property
    def is_text(self) -> bool:
        """Text values travel in TextBatches, everything else in the float64 column."""
        return self.datatype is Datatype.STRING


@dataclass(frozen=True, slots=True)
class SourceBinding:
    """Where one signal's values come from, and how to bring them into the model's unit.

    ``source_unit`` is what the source reports in (the binding's ``unit``, else
    the signal's). ``conversion`` maps a raw source value to the model: first
    ``raw * scale + offset``, then the unit conversion.
    """

    connector: str
    address: str
    signal: Signal
    source_unit: str | None
    scale: float
    offset: float
    conversion: Affine
    group: str | None = None
    """The connector group the binding names (a Modbus polling group, an OPC UA subscription)."""

    def conversion_from(self, reported_unit: str | None) -> Affine:
        """The conversion when the source reports ``reported_unit`` at run time.

        A reported unit replaces the binding's; scale and offset still apply
        first. Raises ``UnitError`` when the unit does not fit the signal.
        """
        target = self.signal.unit
        if reported_unit is None or reported_unit == self.source_unit or target is None:
            return self.conversion
        raw = Affine(self.scale, self.offset)
        return raw.then(conversion(reported_unit, target))


class Registry:
    """All signals of a compiled model, by path, id, glob, equipment and source address."""

    def __init__(
        self,
        *,
        model: FactoryModel,
        version: str,
        signals: Sequence[Signal],
        equipment: Sequence[EquipmentNode],
        bindings: Mapping[str, dict[str, SourceBinding]],
        rules: Mapping[str, tuple[MapRule, ...]] | None = None,
    ) -> None:
        self.model = model
        self.version = version
        """Content hash of the validated model: short hex, stable under comments and key order."""
        self.enterprise = model.enterprise
        self._signals = tuple(sorted(signals, key=lambda s: s.path))
        self._by_path = {s.path: s for s in self._signals}
        self._by_id = {s.id: s for s in self._signals}
        self._equipment = {e.path: e for e in equipment}
        self._of_equipment: dict[str, list[Signal]] = {e.path: [] for e in equipment}
        for signal in self._signals:
            self._of_equipment[signal.equipment.path].append(signal)
        self._bindings = bindings
        self._rules = dict(rules or {})

    def __len__(self) -> int:
        return len(self._signals)

    def __iter__(self) -> Iterator[Signal]:
        return iter(self._signals)

    def __contains__(self, path: object) -> bool:
        return path in self._by_path

    @property
    def signals(self) -> tuple[Signal, ...]:
        """Every signal, sorted by path."""
        return self._signals

    @property
    def ids(self) -> dict[str, int]:
        """Path to id for every signal."""
        return {s.path: s.id for s in self._signals}

    def signal(self, path: str) -> Signal:
        """The signal at ``path``; raises ``UnknownSignalError`` naming the path."""
        try:
            return self._by_path[path]
        except KeyError:
            raise UnknownSignalError(self._no_signal(path)) from None

    def _no_signal(self, path: str) -> str:
        message = f"no signal {path!r} in the model"
        if path.rstrip("/") in self._equipment:
            return f"{message}; it is equipment, '{path.rstrip('/')}/*' selects its signals"
        return message + did_you_mean(path, self._by_path)

    def signal_by_id(self, signal_id: int) -> Signal:
        """The signal with id ``signal_id``; raises ``UnknownSignalError`` naming the id."""
        try:
            return self._by_id[signal_id]
        except KeyError:
            raise UnknownSignalError(f"no signal with id {signal_id} in the model") from None

    def match(self, pattern: str) -> list[Signal]:
        """The signals a path or glob selects, sorted by path.

        Raises ``UnknownSignalError`` naming the pattern when nothing matches.
        """
        if not is_pattern(pattern):
            return [self.signal(pattern)]
        regex = pattern_regex(pattern)
        found = [s for s in self._signals if regex.fullmatch(s.path)]
        if not found:
            raise UnknownSignalError(f"pattern {pattern!r} matches no signal in the model")
        return found

    @property
    def equipment(self) -> tuple[EquipmentNode, ...]:
        """Every equipment, in file order."""
        return tuple(self._equipment.values())

    def equipment_at(self, path: str) -> EquipmentNode:
        """The equipment at ``path``; raises ``UnknownSignalError`` naming the path."""
        try:
            return self._equipment[path]
        except KeyError:
            raise UnknownSignalError(f"no equipment {path!r} in the model") from None

    def signals_of(self, equipment_path: str) -> tuple[Signal, ...]:
        """The signals of one equipment, sorted by path."""
        self.equipment_at(equipment_path)
        return tuple(self._of_equipment[equipment_path])

    @property
    def connectors(self) -> tuple[str, ...]:
        """The connectors that have at least one binding or mapping rule."""
        return tuple(dict.fromkeys([*self._bindings, *self._rules]))

    def rules_for(self, connector: str) -> tuple[MapRule, ...]:
        """The connector's mapping rules, in the order they are tried."""
        return self._rules.get(connector, ())

    def resolve(self, connector: str, address: str) -> SourceBinding | None:
        """The binding of ``address``: the explicit one, else the first mapping rule that
        names a signal of the model (scale 1, the signal's own unit); None when unbound."""
        binding = self._bindings.get(connector, {}).get(address)
        if binding is not None:
            return binding
        for rule in self._rules.get(connector, ()):
            signal = self._by_path.get(rule.apply(address) or "")
            if signal is not None:
                return SourceBinding(
                    connector=connector,
                    address=address,
                    signal=signal,
                    source_unit=signal.unit,
                    scale=1.0,
                    offset=0.0,
                    conversion=IDENTITY,
                )
        return None

    def bindings_for(self, connector: str) -> dict[str, SourceBinding]:
        """Address to binding for one connector: a plain dict for fast batch resolution.

        Empty for a connector without bindings; do not mutate it.
        """
        return self._bindings.get(connector, {})

    def binding(self, connector: str, address: str) -> SourceBinding:
        """The binding of ``address`` on ``connector``; raises ``UnknownSignalError``."""
        try:
            return self._bindings[connector][address]
        except KeyError:
            raise UnknownSignalError(
                f"address {address!r} on connector {connector!r} is bound to no signal"
            ) from None

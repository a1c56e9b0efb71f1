"""Lookup tables compiled from the Registry, so a batch resolves with array indexing.

Per signal id: is it known, its datatype code. Per connector: a dict from
source address to (signal id, scale, offset) with the unit conversion folded in.
A batch's few distinct addresses are looked up once, its points by indexing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from omp.core.errors import ConfigError
from omp.ingest.validate import DatatypeCode

_DATATYPE_CODES = {
    "float": DatatypeCode.FLOAT,
    "int": DatatypeCode.INT,
    "bool": DatatypeCode.BOOL,
    "string": DatatypeCode.STRING,
}


class SignalView(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def datatype(self) -> str: ...
    @property
    def unit(self) -> str | None: ...


class BindingView(Protocol):
    @property
    def signal_id(self) -> int: ...
    @property
    def source_unit(self) -> str | None: ...


class RegistryView(Protocol):
    """What ingest needs of the compiled model."""

    @property
    def version(self) -> str: ...
    def all_signals(self) -> Sequence[SignalView]: ...
    def bindings_of(self, connector: str) -> Mapping[str, BindingView]: ...
    def conversion(self, source_unit: str, target_unit: str) -> tuple[float, float]: ...


@dataclass(frozen=True, slots=True)
class Resolution:
    """A source address resolved: ``signal_id`` is -1 when unbound or not convertible."""

    signal_id: int
    scale: float = 1.0
    offset: float = 0.0
    unit_error: bool = False


UNBOUND = Resolution(-1)
INCONVERTIBLE = Resolution(-1, unit_error=True)


class Tables:
    """Immutable per-model lookup tables; swap the whole object on a model change."""

    def __init__(self, registry: RegistryView) -> None:
        self.registry = registry
        signals = registry.all_signals()
        size = max((s.id for s in signals), default=-1) + 2
        # The last slot is a sentinel for ids outside the table.
        self.datatype: npt.NDArray[np.uint8] = np.full(size, DatatypeCode.UNKNOWN, dtype=np.uint8)
        self.unit: dict[int, str | None] = {}
        for signal in signals:
            self.datatype[signal.id] = _DATATYPE_CODES[signal.datatype]
            self.unit[signal.id] = signal.unit
        self._sentinel = size - 1
        self._resolutions: dict[tuple[str, str, str | None], Resolution] = {}

    def datatype_of(self, signal_id: npt.NDArray[np.int32]) -> npt.NDArray[np.uint8]:
        """Per row datatype codes; unknown ids give ``DatatypeCode.UNKNOWN``."""
        index = np.where((signal_id >= 0) & (signal_id < self._sentinel), signal_id, self._sentinel)
        return self.datatype[index]

    def resolve(self, connector: str, address: str, reported_unit: str | None) -> Resolution:
        """Resolve one source address, caching the answer for this model."""
        key = (connector, address, reported_unit)
        cached = self._resolutions.get(key)
        if cached is None:
            cached = self._resolve(connector, address, reported_unit)
            if len(self._resolutions) < 1_000_000:
                self._resolutions[key] = cached
        return cached

    def _resolve(self, connector: str, address: str, reported_unit: str | None) -> Resolution:
        binding = self.registry.bindings_of(connector).get(address)
        if binding is None:
            return UNBOUND
        target = self.unit.get(binding.signal_id)
        source = reported_unit or binding.source_unit
        if source is None or target is None or source == target:
            return Resolution(binding.signal_id)
        try:
            scale, offset = self.registry.conversion(source, target)
        except ConfigError:
            return INCONVERTIBLE
        return Resolution(binding.signal_id, scale, offset)

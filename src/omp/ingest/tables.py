"""Lookup tables compiled from the Registry, so a batch resolves with array indexing.

Per signal id: its datatype code. Per (connector, address, reported unit): the
signal id and the affine conversion from raw source value to the model's unit
(the binding's scale and offset first, then the unit conversion). A batch's
few distinct addresses are looked up once, its points by indexing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from omp.core.errors import ConfigError
from omp.ingest.validate import DatatypeCode
from omp.model import Datatype, Registry

_DATATYPE_CODES = {
    Datatype.FLOAT: DatatypeCode.FLOAT,
    Datatype.INT: DatatypeCode.INT,
    Datatype.BOOL: DatatypeCode.BOOL,
    Datatype.STRING: DatatypeCode.STRING,
}

RESOLUTION_CACHE_LIMIT = 1_000_000
"""Distinct (connector, address, unit) answers remembered per model."""


@dataclass(frozen=True, slots=True)
class Resolution:
    """A source address resolved: ``signal_id`` is -1 when unbound or not convertible."""

    signal_id: int
    scale: float = 1.0
    offset: float = 0.0
    unit_error: bool = False

    @property
    def is_identity(self) -> bool:
        return self.scale == 1.0 and self.offset == 0.0


UNBOUND = Resolution(-1)
INCONVERTIBLE = Resolution(-1, unit_error=True)


class Tables:
    """Immutable per-model lookup tables; swap the whole object on a model change."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        signals = registry.signals
        size = max((s.id for s in signals), default=-1) + 2
        # The last slot is a sentinel for ids outside the table.
        self.datatype: npt.NDArray[np.uint8] = np.full(size, DatatypeCode.UNKNOWN, dtype=np.uint8)
        for signal in signals:
            self.datatype[signal.id] = _DATATYPE_CODES[signal.datatype]
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
            if len(self._resolutions) < RESOLUTION_CACHE_LIMIT:
                self._resolutions[key] = cached
        return cached

    def _resolve(self, connector: str, address: str, reported_unit: str | None) -> Resolution:
        binding = self.registry.resolve(connector, address)
        if binding is None:
            return UNBOUND
        try:
            affine = binding.conversion_from(reported_unit)
        except ConfigError:
            return INCONVERTIBLE
        return Resolution(binding.signal.id, affine.scale, affine.offset)

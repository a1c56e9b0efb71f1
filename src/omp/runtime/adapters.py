"""Thin views that let the compiled Registry feed ingest.

``Ingest`` asks for ``all_signals``/``bindings_of``/``conversion``; the
Registry offers ``signals``/``bindings_for`` and ``omp.model.conversion``.
This keeps both sides unchanged until they agree on one spelling.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from omp.model import Registry, Signal, SourceBinding, conversion


@dataclass(frozen=True, slots=True)
class _BindingView:
    signal_id: int
    source_unit: str | None


class IngestRegistry:
    """The Registry as ingest's ``RegistryView``."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._bindings: dict[str, dict[str, _BindingView]] = {}

    @property
    def version(self) -> str:
        return self._registry.version

    def all_signals(self) -> Sequence[Signal]:
        return self._registry.signals

    def bindings_of(self, connector: str) -> Mapping[str, _BindingView]:
        views = self._bindings.get(connector)
        if views is None:
            views = {
                address: _view(binding)
                for address, binding in self._registry.bindings_for(connector).items()
            }
            self._bindings[connector] = views
        return views

    def conversion(self, source_unit: str, target_unit: str) -> tuple[float, float]:
        affine = conversion(source_unit, target_unit)
        return affine.scale, affine.offset


def _view(binding: SourceBinding) -> _BindingView:
    return _BindingView(binding.signal.id, binding.source_unit)

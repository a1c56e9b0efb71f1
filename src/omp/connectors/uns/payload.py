"""The JSON payloads of the unified namespace.

A value: ``{"ts": "<RFC 3339>", "value": ..., "unit": "...", "quality": "good"}``.

- ``value`` is a JSON number for int and float signals (non-finite: ``null``),
  ``true``/``false`` for bool signals and a string for text signals.
- State signals add ``"label"``, the state's name from the model, beside the
  numeric code in ``value`` (no label for a code the model does not name).
- ``unit`` is the model's unit (UCUM); it is left out for unitless signals.

>>> from omp.model.kinds import Datatype
>>> encode_value(1767225600000000, 2.0, 0, Datatype.INT, None, {2: "running"})
b'{"ts":"2026-01-01T00:00:00Z","value":2,"label":"running","quality":"good"}'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import orjson

from omp.core.events import Event
from omp.core.quality import Quality
from omp.core.time import Micros, to_rfc3339
from omp.model.kinds import Datatype

_QUALITY_LABELS = {int(q): q.label for q in Quality}


def encode_value(
    ts: Micros,
    value: float | str,
    quality: int,
    datatype: Datatype,
    unit: str | None,
    states: Mapping[int, str],
) -> bytes:
    """One value message; ``value`` is the float64 column's value or the text."""
    body: dict[str, Any] = {"ts": to_rfc3339(ts), "value": _json_value(value, datatype)}
    if states and isinstance(value, float) and value.is_integer():
        label = states.get(int(value))
        if label is not None:
            body["label"] = label
    if unit is not None:
        body["unit"] = unit
    body["quality"] = _QUALITY_LABELS.get(quality, "bad")
    return orjson.dumps(body)


def _json_value(value: float | str, datatype: Datatype) -> bool | int | float | str | None:
    if isinstance(value, str):
        return value
    if not math.isfinite(value):
        return None
    if datatype is Datatype.BOOL:
        return value != 0.0
    if datatype is Datatype.INT:
        return int(value)
    return value


def encode_event(event: Event) -> bytes:
    """One event message: ts, name and whichever of state, reason, end_ts, attributes it has."""
    body: dict[str, Any] = {"ts": to_rfc3339(event.ts), "name": event.name}
    if event.state is not None:
        body["state"] = event.state
    if event.reason is not None:
        body["reason"] = event.reason
    if event.end_ts is not None:
        body["end_ts"] = to_rfc3339(event.end_ts)
    if event.attributes:
        body["attributes"] = event.attributes
    # Attributes come from apps and connectors; anything JSON cannot hold is written as text.
    return orjson.dumps(body, default=str)

"""Events as table rows, the same for every backend (identity ``(asset, kind, name, ts)``)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from omp.core.errors import HistorianError
from omp.core.events import Event, EventKind

COLUMNS = "ts, asset, kind, name, state, reason, end_ts, attributes"
"""Event table columns, in the order of ``to_rows`` and ``from_row``."""

Row = tuple[int, str, str, str, str | None, str | None, int | None, str]


def to_rows(events: Sequence[Event]) -> list[Row]:
    """One row per identity, the last of a repeated identity winning; attributes as JSON text.

    Raises ``HistorianError`` naming the event when its attributes are not
    JSON-serialisable.
    """
    latest = {(e.asset, e.kind.value, e.name, e.ts): e for e in events}
    return [
        (e.ts, e.asset, e.kind.value, e.name, e.state, e.reason, e.end_ts, attributes_json(e))
        for e in latest.values()
    ]


def attributes_json(event: Event) -> str:
    try:
        return json.dumps(event.attributes, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise HistorianError(
            f"event {event.kind.value} {event.name!r} on {event.asset} at {event.ts}:"
            f" attributes are not JSON-serialisable ({exc})"
        ) from exc


def from_row(row: Sequence[Any]) -> Event:
    """An event from a row in ``COLUMNS`` order; attributes as JSON text or a decoded object."""
    ts, asset, kind, name, state, reason, end_ts, attributes = row
    decoded: Mapping[str, Any] = (
        json.loads(attributes) if isinstance(attributes, str) else attributes
    )
    return Event(
        ts=int(ts),
        asset=str(asset),
        kind=EventKind(str(kind)),
        name=str(name),
        state=None if state is None else str(state),
        reason=None if reason is None else str(reason),
        end_ts=None if end_ts is None else int(end_ts),
        attributes=dict(decoded),
    )

"""The events table: identity ``(asset, kind, name, ts)``; writing an identity again replaces it."""

from __future__ import annotations

import json
from collections.abc import Sequence

import psycopg
from psycopg.types.json import Jsonb

from omp.core.errors import HistorianError
from omp.core.events import Event, EventKind
from omp.historian.backends.postgres.sqltext import Names, query
from omp.historian.types import EventQuery

_COLUMNS = "ts, asset, kind, name, state, reason, end_ts, attributes"


def write_events(
    conn: psycopg.Connection[tuple[object, ...]], names: Names, events: Sequence[Event]
) -> int:
    """Upsert ``events`` inside the caller's transaction; the last of a repeated identity wins."""
    latest = {(e.asset, e.kind.value, e.name, e.ts): e for e in events}
    if not latest:
        return 0
    rows = [
        (e.ts, e.asset, e.kind.value, e.name, e.state, e.reason, e.end_ts, _attributes(e))
        for e in latest.values()
    ]
    with conn.cursor() as cur:
        cur.executemany(
            query(
                f"INSERT INTO {names.events} ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (asset, kind, name, ts) DO UPDATE SET state = EXCLUDED.state,"
                " reason = EXCLUDED.reason, end_ts = EXCLUDED.end_ts,"
                " attributes = EXCLUDED.attributes"
            ),
            rows,
        )
    return len(rows)


def _attributes(event: Event) -> Jsonb:
    try:
        json.dumps(event.attributes)
    except (TypeError, ValueError) as exc:
        raise HistorianError(
            f"event {event.kind.value} {event.name!r} on {event.asset} at {event.ts}:"
            f" attributes are not JSON-serialisable ({exc})"
        ) from exc
    return Jsonb(event.attributes)


def read_events(
    conn: psycopg.Connection[tuple[object, ...]], names: Names, q: EventQuery
) -> list[Event]:
    """Events in ``[start, end)`` under ``asset_prefix`` (whole path segments), oldest first."""
    where = ["ts >= %s", "ts < %s"]
    params: list[object] = [q.start, q.end]
    prefix = q.asset_prefix.rstrip("/")
    if prefix:
        where.append("(asset = %s OR starts_with(asset, %s))")
        params += [prefix, prefix + "/"]
    if q.kinds:
        where.append("kind = ANY(%s)")
        params.append([k.value for k in q.kinds])
    rows = conn.execute(
        query(
            f"SELECT {_COLUMNS} FROM {names.events} WHERE {' AND '.join(where)}"
            f" ORDER BY ts, asset, kind, name LIMIT {int(q.limit)}"
        ),
        params,
    ).fetchall()
    return [_event(row) for row in rows]


def _event(row: tuple[object, ...]) -> Event:
    ts, asset, kind, name, state, reason, end_ts, attributes = row
    return Event(
        ts=int(ts),  # type: ignore[call-overload]  # int8 column
        asset=str(asset),
        kind=EventKind(str(kind)),
        name=str(name),
        state=None if state is None else str(state),
        reason=None if reason is None else str(reason),
        end_ts=None if end_ts is None else int(end_ts),  # type: ignore[call-overload]  # int8 column
        attributes=dict(attributes),  # type: ignore[call-overload]  # jsonb object column
    )

"""The events table: identity ``(asset, kind, name, ts)``, a rewrite replaces the record."""

from __future__ import annotations

import json
from collections.abc import Sequence

import duckdb

from omp.core.events import Event, EventKind
from omp.historian.types import EventQuery

_COLUMNS = "ts, asset, kind, name, state, reason, end_ts, attributes"


def write_events(con: duckdb.DuckDBPyConnection, events: Sequence[Event]) -> int:
    """Store ``events`` (inside the caller's transaction); the last of a repeated identity wins."""
    latest = {(e.asset, e.kind.value, e.name, e.ts): e for e in events}
    if not latest:
        return 0
    rows = [
        (e.ts, e.asset, e.kind.value, e.name, e.state, e.reason, e.end_ts, _attributes(e))
        for e in latest.values()
    ]
    con.execute("CREATE TEMP TABLE IF NOT EXISTS _omp_events AS SELECT * FROM events LIMIT 0")
    con.execute("DELETE FROM _omp_events")
    con.executemany(f"INSERT INTO _omp_events VALUES ({', '.join('?' * 8)})", rows)
    con.execute(
        "DELETE FROM events USING _omp_events n WHERE events.asset = n.asset "
        "AND events.kind = n.kind AND events.name = n.name AND events.ts = n.ts"
    )
    con.execute(f"INSERT INTO events SELECT {_COLUMNS} FROM _omp_events")
    return len(rows)


def _attributes(event: Event) -> str:
    try:
        return json.dumps(event.attributes, sort_keys=True)
    except TypeError as exc:
        raise ValueError(
            f"event {event.kind.value} {event.name!r} on {event.asset} at {event.ts}: "
            f"attributes are not JSON-serialisable ({exc})"
        ) from exc


def read_events(con: duckdb.DuckDBPyConnection, query: EventQuery) -> list[Event]:
    """Events in ``[start, end)`` under ``asset_prefix`` (whole path segments), oldest first."""
    where = ["ts >= ?", "ts < ?"]
    params: list[object] = [query.start, query.end]
    prefix = query.asset_prefix.rstrip("/")
    if prefix:
        where.append("(asset = ? OR starts_with(asset, ?))")
        params += [prefix, prefix + "/"]
    if query.kinds:
        where.append("list_contains(?, kind)")
        params.append([k.value for k in query.kinds])
    rows = con.execute(
        f"SELECT {_COLUMNS} FROM events WHERE {' AND '.join(where)} "
        f"ORDER BY ts, asset, kind, name LIMIT {int(query.limit)}",
        params,
    ).fetchall()
    return [
        Event(
            ts=int(ts),
            asset=asset,
            kind=EventKind(kind),
            name=name,
            state=state,
            reason=reason,
            end_ts=None if end_ts is None else int(end_ts),
            attributes=json.loads(attributes),
        )
        for ts, asset, kind, name, state, reason, end_ts, attributes in rows
    ]

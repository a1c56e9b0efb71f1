"""The events table: identity ``(asset, kind, name, ts)``, a rewrite replaces the record."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from omp.core.events import Event
from omp.historian.event_records import COLUMNS, from_row, to_rows
from omp.historian.types import EventQuery


def write_events(con: duckdb.DuckDBPyConnection, events: Sequence[Event]) -> int:
    """Store ``events`` (inside the caller's transaction); the last of a repeated identity wins."""
    rows = to_rows(events)
    if not rows:
        return 0
    con.execute("CREATE TEMP TABLE IF NOT EXISTS _omp_events AS SELECT * FROM events LIMIT 0")
    con.execute("DELETE FROM _omp_events")
    con.executemany(f"INSERT INTO _omp_events VALUES ({', '.join('?' * 8)})", rows)
    con.execute(
        "DELETE FROM events USING _omp_events n WHERE events.asset = n.asset "
        "AND events.kind = n.kind AND events.name = n.name AND events.ts = n.ts"
    )
    con.execute(f"INSERT INTO events SELECT {COLUMNS} FROM _omp_events")
    return len(rows)


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
        f"SELECT {COLUMNS} FROM events WHERE {' AND '.join(where)} "
        f"ORDER BY ts, asset, kind, name LIMIT {int(query.limit)}",
        params,
    ).fetchall()
    return [from_row(row) for row in rows]

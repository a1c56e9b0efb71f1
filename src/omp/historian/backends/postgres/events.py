"""The events table: identity ``(asset, kind, name, ts)``; writing an identity again replaces it."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from omp.core.events import Event
from omp.historian.backends.postgres.sqltext import Names, query
from omp.historian.event_records import COLUMNS, from_row, to_rows
from omp.historian.types import EventQuery


def write_events(
    conn: psycopg.Connection[tuple[object, ...]], names: Names, events: Sequence[Event]
) -> int:
    """Upsert ``events`` inside the caller's transaction; the last of a repeated identity wins."""
    rows = to_rows(events)
    if not rows:
        return 0
    with conn.cursor() as cur:
        cur.executemany(
            query(
                f"INSERT INTO {names.events} ({COLUMNS})"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb)"
                " ON CONFLICT (asset, kind, name, ts) DO UPDATE SET state = EXCLUDED.state,"
                " reason = EXCLUDED.reason, end_ts = EXCLUDED.end_ts,"
                " attributes = EXCLUDED.attributes"
            ),
            rows,
        )
    return len(rows)


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
            f"SELECT {COLUMNS} FROM {names.events} WHERE {' AND '.join(where)}"
            f" ORDER BY ts, asset, kind, name LIMIT {int(q.limit)}"
        ),
        params,
    ).fetchall()
    return [from_row(row) for row in rows]

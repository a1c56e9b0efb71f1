"""Opening a historian schema: DDL, layout detection, the stored settings of a schema.

The first open of a schema fixes its layout (native partitions or
TimescaleDB) and its partition width in ``meta``; later opens use what is
stored, so changing an option never reinterprets existing partitions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import psycopg

from omp.historian.backends.postgres.partitions import ddl_lock
from omp.historian.backends.postgres.schema import (
    DEFAULT_PARTITION_WIDTH,
    Layout,
    choose_layout,
    schema_ddl,
)
from omp.historian.backends.postgres.sqltext import Names, query

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StoreSettings:
    layout: Layout
    partition_width: int


def installed_extensions(conn: psycopg.Connection[tuple[object, ...]]) -> set[str]:
    """Extensions created in the connected database (``pg_extension``)."""
    return {str(row[0]) for row in conn.execute("SELECT extname FROM pg_extension").fetchall()}


def available_extensions(conn: psycopg.Connection[tuple[object, ...]]) -> set[str]:
    """Extensions the server could create (``pg_available_extensions``)."""
    rows = conn.execute("SELECT name FROM pg_available_extensions").fetchall()
    return {str(row[0]) for row in rows}


def prepare(
    conn: psycopg.Connection[tuple[object, ...]],
    names: Names,
    *,
    partition_width: int | None,
    prefer_native: bool,
) -> StoreSettings:
    """Create the schema if needed and return its settings (stored ones win)."""
    with conn.transaction():
        ddl_lock(conn, names.schema)
        stored = _stored_settings(conn, names)
        if stored is None:
            installed = installed_extensions(conn)
            layout = choose_layout(installed_extensions=installed, prefer_native=prefer_native)
            if (
                layout is Layout.NATIVE
                and not prefer_native
                and ("timescaledb" in available_extensions(conn))
            ):
                _log.info(
                    "TimescaleDB is available but not created in this database; schema %s uses"
                    " native partitions (CREATE EXTENSION timescaledb before the first open"
                    " to get a hypertable)",
                    names.schema,
                )
            width = partition_width or DEFAULT_PARTITION_WIDTH[layout]
            stored = StoreSettings(layout, width)
        for statement in schema_ddl(
            names.schema, stored.layout, partition_width=stored.partition_width
        ):
            conn.execute(statement)
        conn.execute(
            query(
                f"CREATE TABLE IF NOT EXISTS {names.meta}"
                " (key text PRIMARY KEY, value text NOT NULL)"
            )
        )
        conn.execute(
            query(
                f"INSERT INTO {names.meta} (key, value) VALUES"
                " ('layout', %s), ('partition_width', %s) ON CONFLICT (key) DO NOTHING"
            ),
            (stored.layout.value, str(stored.partition_width)),
        )
    return stored


def _stored_settings(
    conn: psycopg.Connection[tuple[object, ...]], names: Names
) -> StoreSettings | None:
    exists = conn.execute("SELECT to_regclass(%s)", (names.meta,)).fetchone()
    if exists is None or exists[0] is None:
        return None
    rows = {
        str(key): str(value)
        for key, value in conn.execute(query(f"SELECT key, value FROM {names.meta}")).fetchall()
    }
    if "layout" not in rows or "partition_width" not in rows:
        return None
    return StoreSettings(Layout(rows["layout"]), int(rows["partition_width"]))

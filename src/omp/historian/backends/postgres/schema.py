"""The tables of one historian schema, and the choice between native partitions and TimescaleDB.

Layout (all names live in the backend's own schema):

* ``signals``: the catalog, ``path -> id`` from an identity column, so ids are
  never reused, not even after a failed transaction;
* ``points``: numeric points ``(ts, value, signal_id, quality)``; ``ts`` is
  ``timestamptz``, range-partitioned per ``partition_width`` (native), or a
  hypertable when TimescaleDB is installed; no btree, and a BRIN index on
  ``ts`` only once a partition has gone cold (see ``partitions``), so appends
  run near raw COPY speed;
* ``latest``: per signal the newest numeric point, which is also the
  writer's high-water mark: a point newer than it cannot be stored yet
  (``retained`` turns false when retention deleted that point; the mark stays);
* ``text_points``: text values, same identity, not partitioned (text is rare);
* ``rollup_1m`` / ``rollup_1h``: mergeable partial aggregates per
  ``(signal_id, bucket)``, see ``rollup_sql``;
* ``events``: identity ``(asset, kind, name, ts)``.

Times in the rollup and events tables are int8 Unix microseconds, the way omp
counts time; only ``points`` uses ``timestamptz`` so SQL users and Grafana see
real timestamps in the big table.
"""

from __future__ import annotations

from enum import StrEnum

from psycopg import sql

from omp.core.time import US_PER_DAY, US_PER_HOUR
from omp.historian.partials import FIELDS, INTEGER_FIELDS


class Layout(StrEnum):
    """How ``points`` is split in time."""

    NATIVE = "native"
    """Declarative ``PARTITION BY RANGE (ts)``; the writer creates partitions on demand."""
    TIMESCALE = "timescale"
    """A TimescaleDB hypertable; TimescaleDB creates its chunks itself."""


DEFAULT_PARTITION_WIDTH: dict[Layout, int] = {
    Layout.NATIVE: US_PER_HOUR,
    Layout.TIMESCALE: US_PER_DAY,
}
"""Native partitions double as the coarse time index of the hot data, so they are small."""


def choose_layout(*, installed_extensions: set[str], prefer_native: bool = False) -> Layout:
    """TimescaleDB when its extension is created in the database, else native partitions.

    An extension that is merely *available* (``pg_available_extensions``) is
    not created on the user's behalf: that needs a superuser and
    ``shared_preload_libraries``, decisions for the database owner.

    >>> choose_layout(installed_extensions={"plpgsql"})
    <Layout.NATIVE: 'native'>
    >>> choose_layout(installed_extensions={"plpgsql", "timescaledb"})
    <Layout.TIMESCALE: 'timescale'>
    """
    if "timescaledb" in installed_extensions and not prefer_native:
        return Layout.TIMESCALE
    return Layout.NATIVE


_ROLLUP_COLUMNS = ", ".join(
    [
        "signal_id int4 NOT NULL",
        "bucket int8 NOT NULL",
        *(f"{f} {'int8' if f in INTEGER_FIELDS else 'float8'} NOT NULL" for f in FIELDS),
        "PRIMARY KEY (signal_id, bucket)",
    ]
)
"""Rollup columns: the partials of ``omp.historian.partials`` per ``(signal_id, bucket)``."""


def schema_ddl(
    schema: str, layout: Layout, *, partition_width: int = US_PER_DAY
) -> list[sql.Composed]:
    """Every statement that creates the schema; each is idempotent (``IF NOT EXISTS``)."""
    s = sql.Identifier(schema)
    statements = [
        sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(s),
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {}.signals ("
            " id int4 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            " path text NOT NULL UNIQUE)"
        ).format(s),
        _points_ddl(schema, layout),
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {}.latest ("
            " signal_id int4 PRIMARY KEY, ts int8 NOT NULL, value float8 NOT NULL,"
            " quality int2 NOT NULL, retained bool NOT NULL DEFAULT true)"
        ).format(s),
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {}.text_points ("
            " signal_id int4 NOT NULL, ts timestamptz NOT NULL, value text NOT NULL,"
            " quality int2 NOT NULL, PRIMARY KEY (signal_id, ts))"
        ).format(s),
        sql.SQL("CREATE TABLE IF NOT EXISTS {}.rollup_1m ({})").format(s, sql.SQL(_ROLLUP_COLUMNS)),
        sql.SQL("CREATE TABLE IF NOT EXISTS {}.rollup_1h ({})").format(s, sql.SQL(_ROLLUP_COLUMNS)),
        sql.SQL("CREATE TABLE IF NOT EXISTS {}.state_signals (signal_id int4 PRIMARY KEY)").format(
            s
        ),
        *(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.{} (signal_id int4 NOT NULL, bucket int8 NOT NULL,"
                " state float8 NOT NULL, duration int8 NOT NULL,"
                " PRIMARY KEY (signal_id, bucket, state))"
            ).format(s, sql.Identifier(f"state_{tier}"))
            for tier in ("1m", "1h")
        ),
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {}.events ("
            " asset text NOT NULL, kind text NOT NULL, name text NOT NULL, ts int8 NOT NULL,"
            " state text, reason text, end_ts int8, attributes jsonb NOT NULL DEFAULT '{{}}',"
            " PRIMARY KEY (asset, kind, name, ts))"
        ).format(s),
        sql.SQL("CREATE INDEX IF NOT EXISTS events_ts ON {}.events (ts)").format(s),
    ]
    if layout is Layout.TIMESCALE:
        statements.append(
            sql.SQL(
                "CREATE INDEX IF NOT EXISTS points_ts_brin ON {}.points USING brin (ts)"
            ).format(s)
        )
        statements.append(hypertable_sql(schema, partition_width=partition_width))
    return statements


def _points_ddl(schema: str, layout: Layout) -> sql.Composed:
    # Column order puts the 8-byte columns first so rows pack without padding.
    # No unique index: identity is kept by the writer's per-signal high-water
    # marks (table ``latest``), see decision 0010 in docs/decisions/.
    partitioning = "PARTITION BY RANGE (ts)" if layout is Layout.NATIVE else ""
    return sql.SQL(
        "CREATE TABLE IF NOT EXISTS {}.points ("
        " ts timestamptz NOT NULL, value float8 NOT NULL, signal_id int4 NOT NULL,"
        " quality int2 NOT NULL) {}"
    ).format(sql.Identifier(schema), sql.SQL(partitioning))


def hypertable_sql(schema: str, *, partition_width: int) -> sql.Composed:
    """Turn ``points`` into a hypertable with chunks of ``partition_width`` microseconds.

    Only ever generated and unit-tested: no TimescaleDB server was available
    while this backend was written (see docs/scale-out-postgres.md).
    """
    return sql.SQL(
        "SELECT create_hypertable({table}, 'ts',"
        " chunk_time_interval => {width} * interval '1 microsecond',"
        " if_not_exists => true, migrate_data => true)"
    ).format(
        table=sql.Literal(sql.Identifier(schema, "points").as_string()),
        width=sql.Literal(partition_width),
    )

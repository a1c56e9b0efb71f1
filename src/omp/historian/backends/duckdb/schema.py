"""Tables of the DuckDB store, and opening a file with errors that name it.

Timestamps are BIGINT microseconds: integer deltas compress far better than
TIMESTAMP's generic path, and they are what the rest of omp speaks. There is
no PRIMARY KEY on the point tables: an ART index over billions of rows costs
more on every insert than the writer's high-water-mark check (decision 0002).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb
import pyarrow as pa

from omp.core.errors import HistorianError, HistorianUnavailableError
from omp.historian.partials import FIELDS, INTEGER_FIELDS

SCHEMA_VERSION = 2
"""2: state rollups (``state_signals``, ``state_1m``, ``state_1h``; decision 0017). An
older omp must not write a version-2 file: it would leave the state rollups stale."""

_PARTIAL_COLUMNS = ", ".join(
    [
        "signal_id INTEGER NOT NULL",
        "bucket BIGINT NOT NULL",
        *(f"{f} {'BIGINT' if f in INTEGER_FIELDS else 'DOUBLE'} NOT NULL" for f in FIELDS),
    ]
)
"""Rollup columns: the partials of ``omp.historian.partials`` per ``(signal_id, bucket)``."""

DDL: tuple[str, ...] = (
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    """CREATE TABLE IF NOT EXISTS signals (
        id INTEGER PRIMARY KEY, path VARCHAR NOT NULL UNIQUE)""",
    """CREATE TABLE IF NOT EXISTS points (
        signal_id INTEGER NOT NULL, ts BIGINT NOT NULL,
        value DOUBLE NOT NULL, quality UTINYINT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS text_points (
        signal_id INTEGER NOT NULL, ts BIGINT NOT NULL,
        value VARCHAR NOT NULL, quality UTINYINT NOT NULL)""",
    f"CREATE TABLE IF NOT EXISTS rollup_1m ({_PARTIAL_COLUMNS})",
    f"CREATE TABLE IF NOT EXISTS rollup_1h ({_PARTIAL_COLUMNS})",
    "CREATE TABLE IF NOT EXISTS state_signals (signal_id INTEGER PRIMARY KEY)",
    *(
        f"""CREATE TABLE IF NOT EXISTS state_{tier} (signal_id INTEGER NOT NULL,
        bucket BIGINT NOT NULL, state DOUBLE NOT NULL, duration BIGINT NOT NULL)"""
        for tier in ("1m", "1h")
    ),
    """CREATE TABLE IF NOT EXISTS events (
        ts BIGINT NOT NULL, asset VARCHAR NOT NULL, kind VARCHAR NOT NULL,
        name VARCHAR NOT NULL, state VARCHAR, reason VARCHAR, end_ts BIGINT,
        attributes VARCHAR NOT NULL)""",
)


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the store at ``path`` and bring its schema up to date.

    Raises ``HistorianUnavailableError`` naming the file when it cannot be
    opened: its directory is missing, another process holds its lock, or it
    is not a DuckDB database.
    """
    if not path.parent.is_dir():
        raise HistorianUnavailableError(
            f"cannot open historian file {path}: directory {path.parent} does not exist"
        )
    try:
        con = duckdb.connect(str(path))
    except duckdb.Error as exc:
        raise HistorianUnavailableError(
            f"cannot open historian file {path}: {_reason(exc)}"
        ) from exc
    try:
        _migrate(con, path)
    except BaseException:
        con.close()
        raise
    return con


def _reason(exc: duckdb.Error) -> str:
    text = str(exc)
    if "lock" in text.lower():
        return f"it is locked by another process (only one may open it for writing): {text}"
    if "not a valid duckdb" in text.lower() or "database file" in text.lower():
        return f"it is not a DuckDB database: {text}"
    return text


def _migrate(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    try:
        with transaction(con):
            for statement in DDL:
                con.execute(statement)
            row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
            elif int(row[0]) > SCHEMA_VERSION:
                raise HistorianUnavailableError(
                    f"historian file {path} has schema version {row[0]}, newer than this omp "
                    f"understands ({SCHEMA_VERSION}); upgrade omp"
                )
            elif int(row[0]) < SCHEMA_VERSION:  # the tables above were just added
                con.execute(
                    "UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)]
                )
    except duckdb.Error as exc:
        raise HistorianUnavailableError(f"cannot prepare historian file {path}: {exc}") from exc


def fetch_table(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None
) -> pa.Table:
    """Run ``sql`` and return every row as an Arrow table."""
    table = con.sql(sql, params=params).to_arrow_table()
    if table is None:  # the stubs allow it for statements without a result
        raise HistorianError(f"query returned no result set: {sql[:80]}")
    return table


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction: committed when the block ends, rolled back if it raises."""
    con.execute("BEGIN")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        with suppress(duckdb.Error):  # a failed COMMIT may already have ended it
            con.execute("ROLLBACK")
        raise

"""The raw engines doing the same work as omp, measured in the same run.

These are the yardsticks in the issues: a raw DuckDB Arrow append, a raw
PostgreSQL binary COPY into a plain table, and hand-written aggregate SQL.
They are written here independently of omp's backends on purpose.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import psycopg

from omp.core.batch import PointBatch

PG_EPOCH_OFFSET_US = 946_684_800_000_000  # 2000-01-01 minus 1970-01-01


def duckdb_arrow_append(path: Path, batches: Sequence[PointBatch]) -> float:
    """Points/s of appending Arrow tables to a plain DuckDB table, one INSERT per batch."""
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE points (signal_id INTEGER, ts BIGINT, value DOUBLE, quality UTINYINT)"
    )
    tables = [b.to_arrow() for b in batches]
    total = sum(len(b) for b in batches)
    t0 = time.perf_counter()
    for table in tables:
        con.register("batch", table)
        con.execute("INSERT INTO points SELECT * FROM batch")
        con.unregister("batch")
    con.execute("CHECKPOINT")
    elapsed = time.perf_counter() - t0
    con.close()
    return total / elapsed


def pg_binary_copy_buffer(batch: PointBatch) -> bytes:
    """A PostgreSQL binary COPY body (no header/trailer) for (int4, int8, float8, int2) rows."""
    row = np.dtype(
        [
            ("nfields", ">i2"),
            ("l1", ">i4"),
            ("signal_id", ">i4"),
            ("l2", ">i4"),
            ("ts", ">i8"),
            ("l3", ">i4"),
            ("value", ">f8"),
            ("l4", ">i4"),
            ("quality", ">i2"),
        ]
    )
    out = np.empty(len(batch), dtype=row)
    out["nfields"] = 4
    out["l1"] = 4
    out["signal_id"] = batch.signal_id
    out["l2"] = 8
    out["ts"] = batch.ts - PG_EPOCH_OFFSET_US
    out["l3"] = 8
    out["value"] = batch.value
    out["l4"] = 2
    out["quality"] = batch.quality
    return out.tobytes()


def pg_binary_copy(url: str, schema: str, batches: Sequence[PointBatch]) -> float:
    """Points/s of binary COPY into a plain, unindexed table, one COPY and commit per batch."""
    header = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
    trailer = (-1).to_bytes(2, "big", signed=True)
    bodies = [pg_binary_copy_buffer(b) for b in batches]
    total = sum(len(b) for b in batches)
    with psycopg.connect(url) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        conn.execute(
            f"CREATE TABLE {schema}.raw_points "
            "(signal_id integer, ts timestamptz, value double precision, quality smallint)"
        )
        conn.commit()
        t0 = time.perf_counter()
        for body in bodies:
            with (
                conn.cursor() as cur,
                cur.copy(f"COPY {schema}.raw_points FROM STDIN (FORMAT BINARY)") as copy,
            ):
                copy.write(header + body + trailer)
            conn.commit()
        elapsed = time.perf_counter() - t0
    return total / elapsed


def duckdb_minute_aggregate_sql(
    con: duckdb.DuckDBPyConnection, table: str, ids: Sequence[int], start: int, end: int
) -> int:
    """Hand-written 1-minute avg/min/max; returns the number of result rows."""
    result = con.execute(
        f"SELECT signal_id, ts - ts % 60000000 AS bucket, avg(value), min(value), max(value) "
        f"FROM {table} WHERE signal_id IN ({','.join(map(str, ids))}) "
        "AND ts >= ? AND ts < ? GROUP BY ALL ORDER BY 1, 2",
        [start, end],
    ).to_arrow_table()
    return result.num_rows

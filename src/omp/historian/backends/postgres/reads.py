"""Raw range reads with cursor paging, the latest point per signal, and result tables."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
import pyarrow as pa

from omp.historian.backends.postgres.sqltext import Names, id_list, query, ts_literal, us
from omp.historian.types import Agg, Cursor, RawQuery

RAW_SCHEMA = pa.schema(
    [
        ("signal_id", pa.int32()),
        ("ts", pa.int64()),
        ("value", pa.float64()),
        ("text", pa.string()),
        ("quality", pa.uint8()),
    ]
)
STATE_SCHEMA = pa.schema(
    [
        ("signal_id", pa.int32()),
        ("bucket", pa.int64()),
        ("state", pa.float64()),
        ("duration", pa.int64()),
    ]
)


def aggregate_schema(aggs: Sequence[Agg]) -> pa.Schema:
    return pa.schema(
        [("signal_id", pa.int32()), ("bucket", pa.int64())]
        + [(agg.value, pa.float64()) for agg in aggs]
    )


def fetch_table(
    conn: psycopg.Connection[tuple[object, ...]], sql_text: str, schema: pa.Schema
) -> pa.Table:
    """Run ``sql_text`` and return its rows as an Arrow table of ``schema`` (column order)."""
    with conn.cursor(binary=True) as cur:
        rows = cur.execute(query(sql_text)).fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    return pa.Table.from_arrays(
        [pa.array(col, type=field.type) for col, field in zip(columns, schema, strict=True)],
        schema=schema,
    )


def _union(names: Names, ids: str, numeric_where: str, text_where: str) -> str:
    return (
        f"SELECT signal_id, {us('ts')} AS ts, value, NULL::text AS text, quality"
        f" FROM {names.points} WHERE signal_id IN ({ids}) AND {numeric_where}"
        f" UNION ALL SELECT signal_id, {us('ts')} AS ts, NULL::float8, value, quality"
        f" FROM {names.text_points} WHERE signal_id IN ({ids}) AND {text_where}"
    )


def read_raw(
    conn: psycopg.Connection[tuple[object, ...]], names: Names, q: RawQuery
) -> tuple[pa.Table, Cursor | None]:
    """One page ordered by ``(ts, signal_id)`` and the cursor after its last row."""
    if not q.signal_ids or q.limit <= 0 or q.start >= q.end:
        return RAW_SCHEMA.empty_table(), None
    start = q.start if q.after is None else max(q.start, q.after.ts)
    where = f"ts >= {ts_literal(start)} AND ts < {ts_literal(q.end)}"
    if q.after is not None:
        where += f" AND (ts, signal_id) > ({ts_literal(q.after.ts)}, {int(q.after.signal_id)})"
    sql_text = (
        f"SELECT * FROM ({_union(names, id_list(q.signal_ids), where, where)}) u"
        f" ORDER BY ts, signal_id LIMIT {int(q.limit) + 1}"
    )
    table = fetch_table(conn, sql_text, RAW_SCHEMA)
    if table.num_rows <= q.limit:
        return table, None
    page = table.slice(0, q.limit)
    last = q.limit - 1
    cursor = Cursor(
        ts=int(page.column("ts")[last].as_py()),
        signal_id=int(page.column("signal_id")[last].as_py()),
    )
    return page, cursor


def latest(
    conn: psycopg.Connection[tuple[object, ...]], names: Names, signal_ids: Sequence[int]
) -> pa.Table:
    """The newest point of each signal that has any, ordered by ``signal_id``.

    Numeric points come from the ``latest`` table the writer maintains, text
    from one backwards index probe per signal: constant time, however long
    the history.
    """
    if not signal_ids:
        return RAW_SCHEMA.empty_table()
    sql_text = (
        "SELECT k.id, l.ts, l.value, l.text, l.quality"
        f" FROM unnest(ARRAY[{id_list(signal_ids)}]::int4[]) AS k(id) CROSS JOIN LATERAL ("
        f"(SELECT ts, value, NULL::text AS text, quality FROM {names.points}"
        " WHERE signal_id = k.id ORDER BY ts DESC LIMIT 1)"
        f" UNION ALL (SELECT ts, NULL::float8, value, quality FROM {names.text_points}"
        " WHERE signal_id = k.id ORDER BY ts DESC LIMIT 1)"
        " ORDER BY ts DESC LIMIT 1) l ORDER BY k.id"
    )
    wrapped = f"SELECT id, {us('ts')}, value, text, quality FROM ({sql_text}) x ORDER BY id"
    return fetch_table(conn, wrapped, RAW_SCHEMA)

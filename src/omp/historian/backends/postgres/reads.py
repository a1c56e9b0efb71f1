"""Raw range reads with cursor paging, the latest point per signal, and result tables."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
import pyarrow as pa

from omp.historian.backends.postgres.sqltext import Names, id_list, query, ts_literal, us
from omp.historian.results import RAW_SCHEMA
from omp.historian.types import Cursor, RawQuery


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


def _numeric(names: Names, ids: str, where: str, limit: int) -> str:
    return (
        f"SELECT signal_id, {us('ts')} AS ts, value, NULL::text AS text, quality FROM ("
        f"SELECT signal_id, ts, value, quality FROM {names.points}"
        f" WHERE signal_id IN ({ids}) AND {where} ORDER BY ts, signal_id LIMIT {limit}) p"
        " ORDER BY p.ts, p.signal_id"
    )


def _text(names: Names, ids: str, where: str, limit: int) -> str:
    return (
        f"SELECT signal_id, {us('ts')} AS ts, NULL::float8 AS value, text, quality FROM ("
        f"SELECT signal_id, ts, value AS text, quality FROM {names.text_points}"
        f" WHERE signal_id IN ({ids}) AND {where} ORDER BY ts, signal_id LIMIT {limit}) t"
        " ORDER BY t.ts, t.signal_id"
    )


def _where(lo: int, hi: int, after: Cursor | None) -> str:
    where = f"ts >= {ts_literal(lo)} AND ts < {ts_literal(hi)}"
    if after is not None:
        where += f" AND (ts, signal_id) > ({ts_literal(after.ts)}, {int(after.signal_id)})"
    return where


def read_raw(
    conn: psycopg.Connection[tuple[object, ...]],
    names: Names,
    q: RawQuery,
    *,
    windows: Sequence[tuple[int, int]] | None = None,
) -> tuple[pa.Table, Cursor | None]:
    """One page ordered by ``(ts, signal_id)`` and the cursor after its last row.

    ``windows`` are the time spans of the partitions of ``points`` in time
    order. Numeric points are read window by window until the page is full,
    so a page costs about one partition scan however long the range: without
    a btree PostgreSQL would otherwise sort the whole range for every page.
    Text points (rare) are read in one query and merged in.
    """
    if not q.signal_ids or q.limit <= 0 or q.start >= q.end:
        return RAW_SCHEMA.empty_table(), None
    start = q.start if q.after is None else max(q.start, q.after.ts)
    ids = id_list(q.signal_ids)
    want = int(q.limit) + 1
    spans = [(start, q.end)] if windows is None else _clip(windows, start, q.end)
    pieces = [fetch_table(conn, _text(names, ids, _where(start, q.end, q.after), want), RAW_SCHEMA)]
    found = 0
    for lo, hi in spans:
        piece = fetch_table(
            conn, _numeric(names, ids, _where(lo, hi, q.after), want - found), RAW_SCHEMA
        )
        pieces.append(piece)
        found += piece.num_rows
        if found >= want:
            break
    table = pa.concat_tables(pieces).sort_by([("ts", "ascending"), ("signal_id", "ascending")])
    if table.num_rows <= q.limit:
        return table, None
    page = table.slice(0, q.limit)
    last = q.limit - 1
    cursor = Cursor(
        ts=int(page.column("ts")[last].as_py()),
        signal_id=int(page.column("signal_id")[last].as_py()),
    )
    return page, cursor


def _clip(windows: Sequence[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    return [(max(w_lo, lo), min(w_hi, hi)) for w_lo, w_hi in windows if w_lo < hi and w_hi > lo]


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

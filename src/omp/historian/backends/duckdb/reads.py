"""Raw range reads with paging, and the latest point per signal."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa

from omp.historian.backends.duckdb.schema import fetch_table
from omp.historian.results import RAW_SCHEMA
from omp.historian.types import Cursor, RawQuery


def _union(ids: str, where: str, text_where: str | None = None) -> str:
    return (
        "SELECT signal_id, ts, value, NULL::VARCHAR AS text, quality FROM points "
        f"WHERE signal_id IN ({ids}) AND {where} UNION ALL "
        "SELECT signal_id, ts, NULL::DOUBLE AS value, value AS text, quality FROM text_points "
        f"WHERE signal_id IN ({ids}) AND {text_where or where}"
    )


def read_raw(con: duckdb.DuckDBPyConnection, query: RawQuery) -> tuple[pa.Table, Cursor | None]:
    """One page ordered by ``(ts, signal_id)`` and the cursor after its last row.

    The page is looked for in a time window that starts small and grows
    fourfold until it holds a full page or reaches ``end``: ordering and
    limiting a whole range per page would make paging through it quadratic.
    """
    if not query.signal_ids or query.limit <= 0 or query.start >= query.end:
        return RAW_SCHEMA.empty_table(), None
    ids = ", ".join(str(int(i)) for i in query.signal_ids)
    start, after = query.start, ""
    if query.after is not None:
        start = max(start, query.after.ts)
        after = f" AND (ts > {int(query.after.ts)} OR signal_id > {int(query.after.signal_id)})"
    window = max(1, (query.end - start) // _FIRST_WINDOW_DIVISOR)
    while True:
        hi = min(query.end, start + window)
        where = f"ts >= {int(start)} AND ts < {int(hi)}{after}"
        table = fetch_table(
            con,
            f"SELECT * FROM ({_union(ids, where)}) u ORDER BY ts, signal_id "
            f"LIMIT {int(query.limit) + 1}",
        ).cast(RAW_SCHEMA)
        if table.num_rows > query.limit:
            return _page(table, query.limit)
        if hi >= query.end:
            return table, None
        window *= 4


_FIRST_WINDOW_DIVISOR = 64


def _page(table: pa.Table, limit: int) -> tuple[pa.Table, Cursor]:
    page = table.slice(0, limit)
    last = page.num_rows - 1
    cursor = Cursor(
        ts=int(page.column("ts")[last].as_py()),
        signal_id=int(page.column("signal_id")[last].as_py()),
    )
    return page, cursor


def latest(
    con: duckdb.DuckDBPyConnection, signal_ids: Sequence[int], since: int | None
) -> pa.Table:
    """The newest point of each signal.

    ``since``, a lower bound on the newest numeric point of every signal that
    has one (the writer's high-water marks), lets the zone maps skip history.
    """
    if not signal_ids:
        return RAW_SCHEMA.empty_table()
    ids = ", ".join(str(int(i)) for i in signal_ids)
    where = "true" if since is None else f"ts >= {int(since)}"
    table = fetch_table(
        con,
        f"SELECT * FROM ({_union(ids, where, 'true')}) u "
        "QUALIFY row_number() OVER (PARTITION BY signal_id ORDER BY ts DESC) = 1 "
        "ORDER BY signal_id",
    )
    return table.cast(RAW_SCHEMA)

"""The signal catalog: path -> id, allocated once and never reused.

Rows are never deleted from ``signals`` (retention removes points, not
identities), so the next id is always one past the largest ever handed out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb

from omp.historian.backends.duckdb.schema import transaction


def ensure_ids(con: duckdb.DuckDBPyConnection, paths: Sequence[str]) -> dict[str, int]:
    """Ids for ``paths``, inserting new ones in one transaction (call with the write lock held)."""
    wanted = list(dict.fromkeys(paths))
    if not wanted:
        return {}
    with transaction(con):
        known = _lookup(con, wanted)
        missing = [p for p in wanted if p not in known]
        if missing:
            row = con.execute("SELECT coalesce(max(id), 0) FROM signals").fetchone()
            first = int(row[0]) + 1 if row else 1
            new = {path: first + i for i, path in enumerate(missing)}
            con.executemany("INSERT INTO signals VALUES (?, ?)", [(i, p) for p, i in new.items()])
            known.update(new)
    return {path: known[path] for path in wanted}


def _lookup(con: duckdb.DuckDBPyConnection, paths: list[str]) -> dict[str, int]:
    rows = con.execute(
        "SELECT path, id FROM signals WHERE list_contains(?, path)", [paths]
    ).fetchall()
    return {str(path): int(sid) for path, sid in rows}


def all_ids(con: duckdb.DuckDBPyConnection) -> Mapping[str, int]:
    """Every path ever allocated, with its id."""
    return {str(p): int(i) for p, i in con.execute("SELECT path, id FROM signals").fetchall()}

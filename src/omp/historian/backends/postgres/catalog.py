"""The signal catalog: ``path -> id`` from an identity column; ids are never reused."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from omp.historian.backends.postgres.sqltext import Names, query


def ensure_ids(
    conn: psycopg.Connection[tuple[object, ...]], names: Names, paths: Sequence[str]
) -> dict[str, int]:
    """Ids for ``paths``; new paths get new ids in the order given, in one transaction.

    Known paths are looked up first, so repeated calls consume no identity
    values. Allocators serialise on a transaction-scoped advisory lock: two
    writers inserting the same new paths in different orders would otherwise
    wait on each other's unique-index entries and deadlock.
    """
    wanted = list(dict.fromkeys(paths))
    if not wanted:
        return {}
    with conn.transaction():
        found = _lookup(conn, names, wanted)
        missing = [path for path in wanted if path not in found]
        if missing:
            conn.execute(query("SELECT pg_advisory_xact_lock(hashtext(%s))"), (str(names.signals),))
            found.update(_lookup(conn, names, missing))  # another allocator may have won
            missing = [path for path in wanted if path not in found]
        if missing:
            conn.execute(
                query(
                    f"INSERT INTO {names.signals} (path)"
                    " SELECT p FROM unnest(%s::text[]) WITH ORDINALITY AS u(p, i)"
                    " ORDER BY i ON CONFLICT (path) DO NOTHING"
                ),
                (missing,),
            )
            found.update(_lookup(conn, names, missing))
    return {path: found[path] for path in paths}


def all_ids(conn: psycopg.Connection[tuple[object, ...]], names: Names) -> dict[str, int]:
    """Every path ever allocated, with its id."""
    rows = conn.execute(query(f"SELECT path, id FROM {names.signals} ORDER BY id")).fetchall()
    return {str(path): int(sid) for path, sid in rows}  # type: ignore[call-overload]  # int4 id


def _lookup(
    conn: psycopg.Connection[tuple[object, ...]], names: Names, paths: Sequence[str]
) -> dict[str, int]:
    rows = conn.execute(
        query(f"SELECT path, id FROM {names.signals} WHERE path = ANY(%s)"), (list(paths),)
    ).fetchall()
    return {str(path): int(sid) for path, sid in rows}  # type: ignore[call-overload]  # int4 id

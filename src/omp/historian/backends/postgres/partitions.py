"""Native range partitions of ``points``: one per ``width`` of time, created on demand.

Partition ``points_<start>`` holds ``[start, start + width)`` where ``start``
is a multiple of ``width`` in Unix microseconds (so hourly partitions start
on the hour, UTC). The writer asks for the partitions a batch touches before
it copies; the names already known are cached so a steady stream costs no DDL.

Hot partitions carry no index at all: even a BRIN index costs a third of
COPY throughput, because PostgreSQL maintains it row by row. Reads find
their partitions by pruning and scan them, which is why native partitions
are small (an hour by default). Partitions wider than an hour get a BRIN
index on ``ts`` once they go *cold* (a partition at least one width newer
exists): a single pass, after which reads skip to the block ranges they
need. Hourly partitions are not indexed: scanning one costs about as much
as building its index, and reads touch each old hour rarely.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg import sql

from omp.core.time import US_PER_HOUR

BRIN_ABOVE_WIDTH = US_PER_HOUR
"""Partitions wider than this get a BRIN index on ``ts`` once cold."""

_LOCK_NAMESPACE = 0x6F6D70  # "omp": advisory lock space for DDL in one schema


@dataclass(frozen=True, slots=True)
class Partition:
    """One partition: its table name and ``[start, end)`` in Unix microseconds."""

    name: str
    start: int
    end: int
    indexed: bool = False


def partition_starts(ts: npt.NDArray[np.int64], width: int) -> list[int]:
    """The distinct partition starts (multiples of ``width``) that ``ts`` falls into.

    >>> partition_starts(np.array([5, 130, 90, 260]), 100)
    [0, 100, 200]
    """
    if len(ts) == 0:
        return []
    lo, hi = int(ts.min()) // width, int(ts.max()) // width
    if hi - lo < 64:
        # A live flush spans one or two partitions: the ends hold the min and max, and only
        # the few between need a look, which is cheaper than sorting every timestamp.
        return [k * width for k in range(lo, hi + 1) if k in (lo, hi) or _holds(ts, k, width)]
    return [int(start) for start in np.unique(np.floor_divide(ts, width)) * width]


def _holds(ts: npt.NDArray[np.int64], k: int, width: int) -> bool:
    return bool(np.any((ts >= k * width) & (ts < (k + 1) * width)))


def partition_name(start: int) -> str:
    # Negative starts (before 1970) get an "m" so the name stays an identifier.
    return f"points_{start}" if start >= 0 else f"points_m{-start}"


def ddl_lock(conn: psycopg.Connection[tuple[object, ...]], schema: str) -> None:
    """Serialise DDL on one schema across processes until the transaction ends."""
    conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_LOCK_NAMESPACE, schema))


class PartitionManager:
    """Creates and lists the native partitions of ``<schema>.points``."""

    def __init__(self, schema: str, *, width: int) -> None:
        self._schema = schema
        self._width = width
        self._known: set[int] = set()
        self._pending: set[int] = set()

    @property
    def width(self) -> int:
        return self._width

    def ensure(
        self, conn: psycopg.Connection[tuple[object, ...]], ts: npt.NDArray[np.int64]
    ) -> int:
        """Create the partitions ``ts`` needs inside the caller's transaction; return how many."""
        missing = [start for start in partition_starts(ts, self._width) if start not in self._known]
        if not missing:
            return 0
        ddl_lock(conn, self._schema)
        existing = {part.start for part in self.list(conn)}
        created = 0
        for start in missing:
            if start not in existing:
                conn.execute(self._create_sql(start))
                created += 1
        # Only remember them once the caller commits; see committed/rolled_back.
        self._pending = set(missing)
        if created and self._width > BRIN_ABOVE_WIDTH:
            self._index_cold(conn)
        return created

    def _index_cold(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        """Give every cold partition without an index its BRIN index on ``ts``."""
        parts = self.list(conn)
        newest = max(part.start for part in parts)
        for part in parts:
            if not part.indexed and part.end <= newest - self._width:
                conn.execute(
                    sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING brin (ts)").format(
                        sql.Identifier(f"{part.name}_ts"),
                        sql.Identifier(self._schema, part.name),
                    )
                )

    def committed(self) -> None:
        """The transaction that created partitions committed: cache their names."""
        self._known |= self._pending
        self._pending = set()

    def rolled_back(self) -> None:
        """The transaction rolled back: partitions it created are gone again."""
        self._pending = set()

    def forget(self, starts: set[int]) -> None:
        """Partitions dropped by retention are no longer known."""
        self._known -= starts

    def list(self, conn: psycopg.Connection[tuple[object, ...]]) -> list[Partition]:
        """The partitions that exist, by start."""
        rows = conn.execute(
            "SELECT c.relname, EXISTS (SELECT 1 FROM pg_index x WHERE x.indrelid = c.oid)"
            " FROM pg_inherits i"
            " JOIN pg_class c ON c.oid = i.inhrelid"
            " JOIN pg_class p ON p.oid = i.inhparent"
            " JOIN pg_namespace n ON n.oid = p.relnamespace"
            " WHERE n.nspname = %s AND p.relname = 'points'",
            (self._schema,),
        ).fetchall()
        parts = []
        for name, indexed in rows:
            start = _start_of(str(name))
            if start is not None:
                parts.append(Partition(str(name), start, start + self._width, bool(indexed)))
        return sorted(parts, key=lambda part: part.start)

    def _create_sql(self, start: int) -> sql.Composed:
        return sql.SQL(
            "CREATE TABLE IF NOT EXISTS {part} PARTITION OF {parent}"
            " FOR VALUES FROM ({lo}) TO ({hi})"
        ).format(
            part=sql.Identifier(self._schema, partition_name(start)),
            parent=sql.Identifier(self._schema, "points"),
            lo=_instant(start),
            hi=_instant(start + self._width),
        )


def _instant(micros: int) -> sql.Composed:
    # An expression rather than a formatted literal: exact for any int64 instant.
    return sql.SQL("('epoch'::timestamptz + {} * interval '1 microsecond')").format(
        sql.Literal(micros)
    )


def _start_of(name: str) -> int | None:
    suffix = name.removeprefix("points_")
    if suffix == name:
        return None
    try:
        return -int(suffix[1:]) if suffix.startswith("m") else int(suffix)
    except ValueError:
        return None

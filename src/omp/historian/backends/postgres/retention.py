"""Deleting old data per tier and signal; raw partitions a cutoff covers are dropped whole.

Raw: points and text with ``ts < cutoff``. Rollups: buckets that end at or
before the cutoff, so a bucket is never cut in half.

A native partition is dropped (instead of deleted row by row) when every
signal that has rows in it is cut at or after the partition's end. Which
signals have rows is found with a loose index scan (one index probe per
distinct signal), so the check costs milliseconds even on a full partition.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from omp.core.time import Micros
from omp.historian.backends.postgres.partitions import Partition, PartitionManager
from omp.historian.backends.postgres.sqltext import Names, id_list, query, ts_literal
from omp.historian.types import Tier


def delete_before(
    conn: psycopg.Connection[tuple[object, ...]],
    names: Names,
    partitions: PartitionManager | None,
    tier: Tier,
    cutoffs: Sequence[tuple[Micros, Sequence[int]]],
) -> int:
    """Delete ``tier`` rows older than each cutoff inside the caller's transaction."""
    cutoff_of: dict[int, int] = {}
    for cutoff, signal_ids in cutoffs:
        for signal_id in signal_ids:
            cutoff_of[int(signal_id)] = max(cutoff_of.get(int(signal_id), cutoff), cutoff)
    if not cutoff_of:
        return 0
    deleted = 0
    if tier is Tier.RAW and partitions is not None:
        deleted += _drop_covered_partitions(conn, names, partitions, cutoff_of)
    for cutoff, signal_ids in _by_cutoff(cutoff_of):
        ids = id_list(signal_ids)
        if tier is Tier.RAW:
            statements = [
                f"DELETE FROM {table} WHERE signal_id IN ({ids}) AND ts < {ts_literal(cutoff)}"
                for table in (names.points, names.text_points)
            ]
        else:
            statements = [
                f"DELETE FROM {names.rollup[tier.value]} WHERE signal_id IN ({ids})"
                f" AND bucket + {tier.width} <= {int(cutoff)}"
            ]
        for statement in statements:
            deleted += max(conn.execute(query(statement)).rowcount, 0)
    return deleted


def _by_cutoff(cutoff_of: dict[int, int]) -> list[tuple[int, list[int]]]:
    grouped: dict[int, list[int]] = {}
    for signal_id, cutoff in sorted(cutoff_of.items()):
        grouped.setdefault(cutoff, []).append(signal_id)
    return sorted(grouped.items())


def _drop_covered_partitions(
    conn: psycopg.Connection[tuple[object, ...]],
    names: Names,
    partitions: PartitionManager,
    cutoff_of: dict[int, int],
) -> int:
    dropped_rows = 0
    dropped: set[int] = set()
    for part in partitions.list(conn):
        if part.end > max(cutoff_of.values()):
            break
        present = _signals_in(conn, names, part)
        if all(cutoff_of.get(signal_id, part.end - 1) >= part.end for signal_id in present):
            table = f"{_quote(names.schema)}.{_quote(part.name)}"
            count = conn.execute(query(f"SELECT count(*) FROM {table}")).fetchone()
            dropped_rows += int(count[0]) if count else 0  # type: ignore[call-overload]  # count(*) is int8
            conn.execute(query(f"DROP TABLE {table}"))
            dropped.add(part.start)
    partitions.forget(dropped)
    return dropped_rows


def _signals_in(
    conn: psycopg.Connection[tuple[object, ...]], names: Names, part: Partition
) -> list[int]:
    """Distinct signal ids in one partition, by a loose index scan on its primary key."""
    table = f"{_quote(names.schema)}.{_quote(part.name)}"
    rows = conn.execute(
        query(
            "WITH RECURSIVE s(id) AS ("
            f" SELECT min(signal_id) FROM {table}"
            f" UNION ALL SELECT (SELECT min(signal_id) FROM {table} WHERE signal_id > s.id)"
            " FROM s WHERE s.id IS NOT NULL)"
            " SELECT id FROM s WHERE id IS NOT NULL"
        )
    ).fetchall()
    return [int(row[0]) for row in rows]  # type: ignore[call-overload]  # int4 column


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'

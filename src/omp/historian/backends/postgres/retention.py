"""Deleting old data per tier and signal; raw partitions a cutoff covers are dropped whole.

Raw: points and text with ``ts < cutoff``. Rollups: buckets that end at or
before the cutoff, so a bucket is never cut in half.

A native partition is dropped (instead of deleted row by row) when every
signal that has rows in it is cut at or after the partition's end. The hour
rollups rule out partitions that hold other signals without touching them;
a candidate is then counted exactly in one sequential scan, far cheaper than
deleting its rows one by one and vacuuming them afterwards.
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
                f"DELETE FROM {table} WHERE signal_id IN ({ids})"
                f" AND bucket + {tier.width} <= {int(cutoff)}"
                for table in (names.rollup[tier.value], names.states[tier.value])
            ]
        for statement in statements:
            deleted += max(conn.execute(query(statement)).rowcount, 0)
        if tier is Tier.RAW:
            # The newest point may be gone now; its time stays as the replay mark.
            conn.execute(
                query(
                    f"UPDATE {names.latest} SET retained = false"
                    f" WHERE signal_id IN ({ids}) AND ts < {int(cutoff)} AND retained"
                )
            )
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
        covered = [sid for sid, cutoff in cutoff_of.items() if cutoff >= part.end]
        if not covered or _hour_rollups_name_others(conn, names, part, covered):
            continue
        rows, others = _count(conn, names, part, covered)
        if others == 0:
            conn.execute(query(f"DROP TABLE {_table(names, part)}"))
            dropped_rows += rows
            dropped.add(part.start)
    partitions.forget(dropped)
    return dropped_rows


def _hour_rollups_name_others(
    conn: psycopg.Connection[tuple[object, ...]], names: Names, part: Partition, covered: list[int]
) -> bool:
    """Whether the hour rollups show a signal outside ``covered`` with points in ``part``.

    The small rollup table answers what a scan of the partition would, so a
    partition kept for a longer-lived signal is not rescanned at every
    retention run. Without rollup rows the exact count decides.
    """
    start = part.start - part.start % Tier.HOUR.width
    row = conn.execute(
        query(
            f"SELECT EXISTS (SELECT 1 FROM {names.rollup['1h']} WHERE bucket >= {start}"
            f" AND bucket < {part.end} AND last_ts >= {part.start} AND first_ts < {part.end}"
            f" AND signal_id NOT IN ({id_list(covered)}))"
        )
    ).fetchone()
    return bool(row[0]) if row else False


def _count(
    conn: psycopg.Connection[tuple[object, ...]], names: Names, part: Partition, covered: list[int]
) -> tuple[int, int]:
    """Rows in ``part``, and how many of them belong to signals not in ``covered``."""
    row = conn.execute(
        query(
            f"SELECT count(*), count(*) FILTER (WHERE signal_id NOT IN ({id_list(covered)}))"
            f" FROM {_table(names, part)}"
        )
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)  # type: ignore[call-overload]  # int8


def _table(names: Names, part: Partition) -> str:
    return f"{_quote(names.schema)}.{_quote(part.name)}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'

"""The write path: one flush of points, text and events in one transaction.

Numeric points go out as one binary COPY built by numpy. Replay safety comes
from the primary key ``(signal_id, ts)``: the batch is first copied straight
into ``points`` inside a savepoint (the common case, nothing stored yet); if
an identity already exists, the savepoint rolls back and the batch goes
through a staging table and ``INSERT ... ON CONFLICT DO NOTHING``. See
docs/decisions/0010-postgres-replay-safe-copy.md for the measurements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import psycopg
import psycopg.errors

from omp.core.batch import PointBatch, TextBatch
from omp.core.events import Event
from omp.historian.backends.postgres import events as event_sql
from omp.historian.backends.postgres import rollups
from omp.historian.backends.postgres.copy_binary import PgType, encode_copy
from omp.historian.backends.postgres.partials import compute_partials
from omp.historian.backends.postgres.partitions import PartitionManager
from omp.historian.backends.postgres.sqltext import Names, query, ts
from omp.historian.types import ROLLUP_TIERS, WriteStats

_POINT_COLUMNS = "ts, value, signal_id, quality"
_STAGE_POINTS = "omp_stage_points"
_STAGE_TEXT = "omp_stage_text"


def first_occurrences(
    signal_id: npt.NDArray[np.int32], ts: npt.NDArray[np.int64]
) -> npt.NDArray[np.intp]:
    """Row indexes ordered by ``(signal_id, ts)``, keeping the first row of each identity.

    >>> first_occurrences(np.array([2, 1, 2], np.int32), np.array([5, 9, 5])).tolist()
    [1, 0]
    """
    order = np.lexsort((ts, signal_id))  # stable: equal identities keep batch order
    if len(order) < 2:
        return order
    sid, sts = signal_id[order], ts[order]
    keep = np.empty(len(order), dtype=bool)
    keep[0] = True
    keep[1:] = (sid[1:] != sid[:-1]) | (sts[1:] != sts[:-1])
    return order[keep]


@dataclass(frozen=True, slots=True)
class WriterSetup:
    names: Names
    partitions: PartitionManager | None
    """``None`` when TimescaleDB manages the chunks."""


def create_staging(conn: psycopg.Connection[tuple[object, ...]], names: Names) -> None:
    """Session-local staging tables for the replay path, emptied at every commit."""
    conn.execute(
        query(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE_POINTS}"
            " (ts timestamptz, value float8, signal_id int4, quality int2) ON COMMIT DELETE ROWS"
        )
    )
    conn.execute(
        query(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE_TEXT}"
            " (signal_id int4, ts int8, value text, quality int2) ON COMMIT DELETE ROWS"
        )
    )
    rollups.create_staging(conn, names)


def write_flush(
    conn: psycopg.Connection[tuple[object, ...]],
    setup: WriterSetup,
    points: PointBatch,
    text: TextBatch | None,
    events: Sequence[Event],
) -> WriteStats:
    """Store one flush inside the caller's transaction and update the rollups."""
    keep = first_occurrences(points.signal_id, points.ts)
    batch = points.take(keep)
    stored, replayed = _write_points(conn, setup, batch) if len(batch) else (0, False)
    if len(batch):
        _update_rollups(conn, setup.names, batch, replayed=replayed)
    text_stored, text_seen = _write_text(conn, setup, text) if text is not None else (0, 0)
    written_events = event_sql.write_events(conn, setup.names, events)
    return WriteStats(
        points=stored,
        text=text_stored,
        events=written_events,
        duplicates=(len(points) - stored) + (text_seen - text_stored),
    )


def _point_stream(batch: PointBatch) -> memoryview:
    return encode_copy(
        [
            (PgType.TIMESTAMPTZ, batch.ts),
            (PgType.FLOAT8, batch.value),
            (PgType.INT4, batch.signal_id),
            (PgType.INT2, batch.quality.astype(np.int16)),
        ]
    )


def _write_points(
    conn: psycopg.Connection[tuple[object, ...]], setup: WriterSetup, batch: PointBatch
) -> tuple[int, bool]:
    """Insert ``batch`` (unique identities); return (rows stored, whether any were replays)."""
    names = setup.names
    if setup.partitions is not None:
        setup.partitions.ensure(conn, batch.ts)
    stream = _point_stream(batch)
    try:
        with (
            conn.transaction(),
            conn.cursor().copy(
                query(f"COPY {names.points} ({_POINT_COLUMNS}) FROM STDIN (FORMAT BINARY)")
            ) as copy,
        ):
            copy.write(stream)
        return len(batch), False
    except psycopg.errors.UniqueViolation:
        pass  # some identities are stored already: a replay; take the slow, exact path
    with conn.cursor().copy(
        query(f"COPY {_STAGE_POINTS} ({_POINT_COLUMNS}) FROM STDIN (FORMAT BINARY)")
    ) as copy:
        copy.write(stream)
    inserted = conn.execute(
        query(
            f"INSERT INTO {names.points} ({_POINT_COLUMNS})"
            f" SELECT {_POINT_COLUMNS} FROM {_STAGE_POINTS} ON CONFLICT DO NOTHING"
        )
    )
    return max(inserted.rowcount, 0), True


def _update_rollups(
    conn: psycopg.Connection[tuple[object, ...]], names: Names, batch: PointBatch, *, replayed: bool
) -> None:
    redo = 0
    for tier in ROLLUP_TIERS:
        partials = compute_partials(batch.signal_id, batch.ts, batch.value, width=tier.width)
        rollups.stage(conn, tier, partials)
        if replayed:
            rollups.redo_all(conn, tier)
            redo += len(partials)
        else:
            redo += rollups.fold(conn, names, tier)
    if redo:
        rollups.recompute(conn, names)


def _write_text(
    conn: psycopg.Connection[tuple[object, ...]], setup: WriterSetup, text: TextBatch
) -> tuple[int, int]:
    """Insert text points (first write wins); return (rows stored, rows offered)."""
    keep = first_occurrences(text.signal_id, text.ts)
    batch = text.take(keep)
    if not len(batch):
        return 0, 0
    values = batch.value.to_pylist()
    with conn.cursor().copy(
        query(f"COPY {_STAGE_TEXT} (signal_id, ts, value, quality) FROM STDIN")
    ) as copy:
        for row in zip(
            batch.signal_id.tolist(), batch.ts.tolist(), values, batch.quality.tolist(), strict=True
        ):
            copy.write_row(row)
    inserted = conn.execute(
        query(
            f"INSERT INTO {setup.names.text_points} (signal_id, ts, value, quality)"
            f" SELECT signal_id, {ts('ts')}, value, quality FROM {_STAGE_TEXT}"
            " ON CONFLICT DO NOTHING"
        )
    )
    return max(inserted.rowcount, 0), len(text)

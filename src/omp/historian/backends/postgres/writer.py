"""The write path: one flush of points, text and events in one transaction.

Numeric points go out as one binary COPY built by numpy. Replay safety comes
from a high-water mark per signal (table ``latest``), not from a unique
index, because a btree on ``(signal_id, ts)`` cuts COPY speed by two thirds
(docs/decisions/0010-postgres-replay-safety-by-high-water-marks.md):

* the writer takes a transaction-scoped advisory lock per signal in the
  batch, so concurrent writers of one signal (several ingest workers) queue;
* points newer than their signal's mark cannot be stored yet: they are
  copied straight into ``points`` and their partials folded into the rollups;
* older points (a replay, late data, a history import) go through a staging
  table and are inserted only where ``(signal_id, ts)`` is not stored, and
  the rollup buckets they touch are recomputed from raw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg import sql

from omp.core.batch import PointBatch, TextBatch
from omp.core.events import Event
from omp.historian.backends.postgres import arrays, rollups, state_tracking
from omp.historian.backends.postgres import events as event_sql
from omp.historian.backends.postgres.arrays import PgArray, array
from omp.historian.backends.postgres.copy_binary import TS_MIN_US, PgType, encode_copy
from omp.historian.backends.postgres.partitions import PartitionManager
from omp.historian.backends.postgres.sqltext import Names, id_list, query, ts, ts_literal
from omp.historian.numpy_partials import Columns, coarsen, first_occurrences, partials, take
from omp.historian.types import Tier, WriteStats

_POINT_COLUMNS = "ts, value, signal_id, quality"
_STAGE_POINTS = "omp_stage_points"
_STAGE_TEXT = "omp_stage_text"
_COPY_ROLLUP_ROWS = 256
"""From this many new rollup rows on, a COPY beats inserting them through the upsert."""


@dataclass(frozen=True, slots=True)
class WriterSetup:
    names: Names
    partitions: PartitionManager | None
    """``None`` when TimescaleDB manages the chunks."""
    tracked: frozenset[int] = frozenset()
    """Declared state signals, whose state rollups the flush keeps up (decision 0017)."""


def prepare_connection(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """Session-local staging tables for the late path, and the array parameter dumpers."""
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
    rollups.create_staging(conn)
    arrays.register(conn)


def write_flush(
    conn: psycopg.Connection[tuple[object, ...]],
    setup: WriterSetup,
    points: PointBatch,
    text: TextBatch | None,
    events: Sequence[Event],
) -> WriteStats:
    """Store one flush inside the caller's transaction and update the rollups."""
    unique = points.take(first_occurrences(points.signal_id, points.ts))
    stored = _write_points(conn, setup, unique)
    # Every offered point's buckets, replays included: recomputing is exact either way.
    state_tracking.refresh(conn, setup.names, unique.signal_id, unique.ts, setup.tracked)
    text_stored, text_seen = _write_text(conn, setup, text) if text is not None else (0, 0)
    written_events = event_sql.write_events(conn, setup.names, events)
    return WriteStats(
        points=stored,
        text=text_stored,
        events=written_events,
        duplicates=(len(points) - stored) + (text_seen - text_stored),
    )


def _write_points(
    conn: psycopg.Connection[tuple[object, ...]], setup: WriterSetup, batch: PointBatch
) -> int:
    """Insert ``batch`` (sorted by identity, no repeats); return the rows stored."""
    if not len(batch):
        return 0
    names = setup.names
    first = np.flatnonzero(np.diff(batch.signal_id, prepend=batch.signal_id[0] - 1))
    signals = batch.signal_id[first]
    marks = _lock_marks(conn, names, signals)
    fresh = batch.ts > np.repeat(marks, np.diff(first, append=len(batch)))
    if setup.partitions is not None:
        setup.partitions.ensure(conn, batch.ts)
    new = batch if fresh.all() else batch.take(fresh)
    if len(new):
        with conn.cursor().copy(
            query(f"COPY {names.points} ({_POINT_COLUMNS}) FROM STDIN (FORMAT BINARY)")
        ) as copy:
            copy.write(_point_stream(new))
            # Computed while the server is still ingesting the COPY (two cores, two processes).
            fold = _Fold.of(new, signals, marks)
        for tier, rows in fold.fresh:
            rollups.copy_fresh(conn, names, tier, rows)
        conn.execute(*fold.statement(names))
    if len(new) == len(batch):
        return len(new)
    late = batch.take(~fresh)
    inserted = _insert_late(conn, names, late)
    rollups.recompute_late(conn, names, late.signal_id, late.ts)
    return len(new) + inserted


def _lock_marks(
    conn: psycopg.Connection[tuple[object, ...]], names: Names, signals: npt.NDArray[np.int32]
) -> npt.NDArray[np.int64]:
    """Lock each signal for this transaction and return its mark (``TS_MIN_US - 1`` if none)."""
    ids = id_list(signals.tolist())
    conn.execute(
        query(
            f"SELECT pg_advisory_xact_lock(hashtext({_literal(names.schema)}), id)"
            f" FROM unnest(ARRAY[{ids}]::int4[]) AS k(id) ORDER BY id"
        )
    )
    rows = conn.execute(
        query(f"SELECT signal_id, ts FROM {names.latest} WHERE signal_id IN ({ids})")
    ).fetchall()
    marks = np.full(len(signals), TS_MIN_US - 1, dtype=np.int64)
    if rows:
        found = np.array([row[0] for row in rows], dtype=np.int32)
        marks[np.searchsorted(signals, found)] = np.array([row[1] for row in rows], np.int64)
    return marks


@dataclass(frozen=True, slots=True)
class _Fold:
    """The rollup and mark updates for points newer than every stored point of their signal.

    A rollup bucket after its signal's mark holds no stored point, so no row
    exists for it yet: those partials are copied in as new rows (``fresh``).
    Only the bucket holding the mark may exist and needs the merging upsert
    (``heads``): at most one row per signal and tier. A COPY costs a round
    trip, so a few new rows go through the upsert as well.
    """

    fresh: list[tuple[Tier, Columns]]
    heads: list[tuple[Tier, Columns]]
    tip: PointBatch

    @classmethod
    def of(
        cls, new: PointBatch, signals: npt.NDArray[np.int32], marks: npt.NDArray[np.int64]
    ) -> _Fold:
        minutes = partials(new.signal_id, new.ts, new.value, width=Tier.MINUTE.width)
        fresh, heads = [], []
        for tier, rows in (
            (Tier.MINUTE, minutes),
            (Tier.HOUR, coarsen(minutes, width=Tier.HOUR.width)),
        ):
            head = rows["bucket"] <= marks[np.searchsorted(signals, rows["signal_id"])]
            if np.count_nonzero(~head) < _COPY_ROLLUP_ROWS:
                heads.append((tier, rows))  # few new rows: the upsert inserts them too
            else:
                fresh.append((tier, take(rows, ~head)))
                heads.append((tier, take(rows, head)))
        last = np.append(np.flatnonzero(new.signal_id[1:] != new.signal_id[:-1]), len(new) - 1)
        return cls(fresh, heads, new.take(last))

    def statement(self, names: Names) -> tuple[sql.SQL, list[PgArray]]:
        """One statement: merge the head partials of both tiers, advance the marks."""
        text = (
            f"WITH m AS ({rollups.fold_cte(names, Tier.MINUTE)}),"
            f" h AS ({rollups.fold_cte(names, Tier.HOUR)})"
            f" INSERT INTO {names.latest} AS l (signal_id, ts, value, quality)"
            " SELECT * FROM unnest(%s::int4[], %s::int8[], %s::float8[], %s::int2[])"
            " ON CONFLICT (signal_id) DO UPDATE SET ts = EXCLUDED.ts, value = EXCLUDED.value,"
            " quality = EXCLUDED.quality, retained = true WHERE EXCLUDED.ts > l.ts"
        )
        tip = self.tip
        params = [
            *(param for _, rows in self.heads for param in rollups.fold_params(rows)),
            array(PgType.INT4, tip.signal_id),
            array(PgType.INT8, tip.ts),
            array(PgType.FLOAT8, tip.value),
            array(PgType.INT2, tip.quality.astype(np.int16)),
        ]
        return query(text), params


def _copy(conn: psycopg.Connection[tuple[object, ...]], table: str, batch: PointBatch) -> None:
    with conn.cursor().copy(
        query(f"COPY {table} ({_POINT_COLUMNS}) FROM STDIN (FORMAT BINARY)")
    ) as copy:
        copy.write(_point_stream(batch))


def _insert_late(
    conn: psycopg.Connection[tuple[object, ...]], names: Names, late: PointBatch
) -> int:
    """Insert the points not stored yet; one hash anti-join over their time range."""
    _copy(conn, _STAGE_POINTS, late)
    ids = id_list(np.unique(late.signal_id).tolist())
    lo, hi = int(late.ts.min()), int(late.ts.max())
    inserted = conn.execute(
        query(
            f"INSERT INTO {names.points} ({_POINT_COLUMNS})"
            f" SELECT s.ts, s.value, s.signal_id, s.quality FROM {_STAGE_POINTS} s"
            f" WHERE NOT EXISTS (SELECT 1 FROM {names.points} p"
            f" WHERE p.signal_id = s.signal_id AND p.ts = s.ts AND p.signal_id IN ({ids})"
            f" AND p.ts >= {ts_literal(lo)} AND p.ts <= {ts_literal(hi)})"
        )
    )
    return max(inserted.rowcount, 0)


def _point_stream(batch: PointBatch) -> memoryview:
    return encode_copy(
        [
            (PgType.TIMESTAMPTZ, batch.ts),
            (PgType.FLOAT8, batch.value),
            (PgType.INT4, batch.signal_id),
            (PgType.INT2, batch.quality.astype(np.int16)),
        ]
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


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

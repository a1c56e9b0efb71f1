"""Replay-safe point writes: first write of ``(signal_id, ts)`` wins.

The single writer keeps, per signal, the highest stored timestamp (the
high-water mark, loaded at open with one ``GROUP BY``). A flush is sorted by
``(signal_id, ts)`` and de-duplicated in numpy; rows above their signal's mark
cannot be stored yet and are appended as they are; only rows at or below it
go through an anti-join against the stored rows of their time range.
Decision record 0002 explains why this beats a primary key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from omp.core.batch import PointBatch, TextBatch
from omp.historian.backends.duckdb.schema import fetch_table
from omp.historian.numpy_partials import first_occurrences

NO_MARK = np.iinfo(np.int64).min
"""The mark of a signal with no stored point."""
_NONE = NO_MARK


class HighWater:
    """Per signal id, the newest stored timestamp (``int64 min`` when none)."""

    def __init__(self) -> None:
        self._marks = np.full(0, _NONE, dtype=np.int64)

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection) -> HighWater:
        marks = cls()
        table = fetch_table(con, "SELECT signal_id, max(ts) AS ts FROM points GROUP BY ALL")
        marks.raise_to(
            table.column("signal_id").to_numpy().astype(np.int32),
            table.column("ts").to_numpy().astype(np.int64),
        )
        return marks

    def of(self, signal_id: npt.NDArray[np.int32]) -> npt.NDArray[np.int64]:
        """Marks of each id (vectorised)."""
        self._grow(signal_id)
        return self._marks[signal_id]

    def of_known(self, signal_ids: Sequence[int]) -> list[int]:
        """Marks of the ``signal_ids`` with stored points; read-only, so safe from readers."""
        marks = self._marks
        ids = np.asarray(signal_ids, dtype=np.int64)
        ids = ids[(ids >= 0) & (ids < len(marks))]
        known = marks[ids]
        return [int(m) for m in known[known != _NONE]]

    def raise_to(self, signal_id: npt.NDArray[np.int32], ts: npt.NDArray[np.int64]) -> None:
        """Raise marks to ``ts`` where it is newer."""
        if len(signal_id):
            self._grow(signal_id)
            np.maximum.at(self._marks, signal_id, ts)

    def copy(self) -> HighWater:
        clone = HighWater()
        clone._marks = self._marks.copy()
        return clone

    def _grow(self, signal_id: npt.NDArray[np.int32]) -> None:
        need = int(signal_id.max()) + 1 if len(signal_id) else 0
        if need > len(self._marks):
            grown = np.full(max(need, 2 * len(self._marks)), _NONE, dtype=np.int64)
            grown[: len(self._marks)] = self._marks
            self._marks = grown


def check_times(signal_id: npt.NDArray[np.int32], ts: npt.NDArray[np.int64]) -> None:
    """Reject timestamps before 1970: bucket arithmetic assumes ``ts >= 0``."""
    if len(ts) and int(ts.min()) < 0:
        row = int(np.argmin(ts))
        raise ValueError(
            f"signal {int(signal_id[row])} has timestamp {int(ts[row])}us, before 1970"
        )


@dataclass(frozen=True, slots=True)
class Inserted:
    """What one flush stored: rows above their signal's mark, sorted by
    ``(signal_id, ts)``, and late rows (at or below it) that were absent."""

    appended: PointBatch
    late: PointBatch

    def __len__(self) -> int:
        return len(self.appended) + len(self.late)


def insert_points(con: duckdb.DuckDBPyConnection, batch: PointBatch, marks: HighWater) -> Inserted:
    """Insert the new rows of ``batch`` (inside the caller's transaction).

    ``marks`` is raised to cover what was inserted; the caller passes a copy
    and keeps it only if the transaction commits.
    """
    check_times(batch.signal_id, batch.ts)
    unique = batch.take(first_occurrences(batch.signal_id, batch.ts))
    fresh = unique.ts > marks.of(unique.signal_id)
    appended = unique.take(fresh)
    if len(appended):
        # Stored in time order: ts then compresses to tiny deltas (decision 0003).
        _append(
            con, "points", appended.take(np.lexsort((appended.signal_id, appended.ts))).to_arrow()
        )
    late = unique.take(~fresh)
    stored_late = _insert_absent(con, "points", late.to_arrow()) if len(late) else None
    marks.raise_to(appended.signal_id, appended.ts)
    if stored_late is None:
        return Inserted(appended, PointBatch.empty())
    late_batch = PointBatch.of(
        stored_late.column("signal_id"),
        stored_late.column("ts"),
        stored_late.column("value"),
        stored_late.column("quality"),
    )
    return Inserted(appended, late_batch)


def insert_text(con: duckdb.DuckDBPyConnection, batch: TextBatch) -> int:
    """Insert the new rows of a text batch; return how many were new."""
    check_times(batch.signal_id, batch.ts)
    unique = batch.take(first_occurrences(batch.signal_id, batch.ts))
    if not len(unique):
        return 0
    stored = _insert_absent(con, "text_points", unique.to_arrow())
    return int(stored.num_rows)


def _append(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
    """Append Arrow rows whose columns are in the table's order."""
    con.from_arrow(rows).insert_into(table)


def _insert_absent(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> pa.Table:
    """Insert the rows whose identity is not stored yet; return them."""
    ts = rows.column("ts").to_numpy()
    ids = ", ".join(str(int(i)) for i in np.unique(rows.column("signal_id").to_numpy()))
    con.register("_omp_rows", rows)
    try:
        absent = fetch_table(
            con,
            "SELECT r.signal_id, r.ts, r.value, r.quality FROM _omp_rows r ANTI JOIN ("
            f"SELECT signal_id, ts FROM {table} WHERE signal_id IN ({ids}) "
            f"AND ts >= {int(ts.min())} AND ts <= {int(ts.max())}"
            ") s ON r.signal_id = s.signal_id AND r.ts = s.ts",
        )
    finally:
        con.unregister("_omp_rows")
    if absent.num_rows:
        _append(con, table, absent)
    return absent

"""``DuckDBBackend``: the embedded historian store in one DuckDB file.

Writes (``write``, ``ensure_ids``, ``delete_before``) run on one write
connection under a lock, each as one transaction. Reads run on a cursor per
thread (DuckDB connections are not shared across threads) and see the last
committed state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import duckdb
import pyarrow as pa

from omp.core.batch import PointBatch, TextBatch
from omp.core.errors import HistorianClosedError, HistorianError, HistorianUnavailableError
from omp.core.events import Event
from omp.core.time import Micros
from omp.historian.backends.duckdb import (
    catalog,
    events,
    reads,
    retention,
    rollups,
    schema,
    state_tracking,
)
from omp.historian.backends.duckdb.aggregate import aggregate_sql
from omp.historian.backends.duckdb.open_rows import OpenRows
from omp.historian.backends.duckdb.schema import fetch_table
from omp.historian.backends.duckdb.states import state_durations_sql
from omp.historian.backends.duckdb.write import HighWater, insert_points, insert_text
from omp.historian.planner import choose_state_tier
from omp.historian.results import STATE_SCHEMA, aggregate_schema
from omp.historian.types import (
    AggregateQuery,
    Cursor,
    EventQuery,
    RawQuery,
    StateQuery,
    Tier,
    WriteStats,
)

DEFAULT_FILE_NAME = "historian.duckdb"

_T = TypeVar("_T")

_OPEN_FILES: set[Path] = set()
"""Files a backend of this process holds open (DuckDB would silently share them)."""
_OPEN_LOCK = threading.Lock()


class DuckDBBackend:
    """A ``HistorianBackend`` on one DuckDB file. Open with ``DuckDBBackend.open``."""

    def __init__(self, path: Path, con: duckdb.DuckDBPyConnection) -> None:
        self._path = path
        self._con = con
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._cursors_lock = threading.Lock()
        self._closed = False
        self._marks = HighWater.load(con)
        self._open_rows = OpenRows()
        self._tracked = state_tracking.load(con)

    @classmethod
    def open(cls, path: Path | str) -> DuckDBBackend:
        """Open or create the store at ``path``: a file, or a directory to hold the default file.

        Raises ``HistorianUnavailableError`` naming the file when it cannot be
        opened, including when this process already has it open: two writers
        would each trust their own high-water marks and break replay safety.
        """
        target = Path(path)
        if target.is_dir():
            target = target / DEFAULT_FILE_NAME
        key = target.resolve()
        with _OPEN_LOCK:
            if key in _OPEN_FILES:
                raise HistorianUnavailableError(
                    f"historian file {target} is already open in this process; "
                    "share that backend instead of opening a second writer"
                )
            _OPEN_FILES.add(key)
        try:
            return cls(target, schema.connect(target))
        except BaseException:
            with _OPEN_LOCK:
                _OPEN_FILES.discard(key)
            raise

    def describe(self) -> str:
        return f"duckdb:{self._path}"

    def close(self) -> None:
        with self._write_lock, self._cursors_lock:
            if self._closed:
                return
            self._closed = True
            for cursor in self._cursors:
                cursor.close()
            self._cursors.clear()
            self._con.close()
            with _OPEN_LOCK:
                _OPEN_FILES.discard(self._path.resolve())

    # --- catalog -------------------------------------------------------------

    def ensure_ids(self, paths: Sequence[str]) -> Mapping[str, int]:
        with self._writing() as con:
            return catalog.ensure_ids(con, paths)

    def signal_ids(self) -> Mapping[str, int]:
        return self._read(catalog.all_ids)

    # --- writes --------------------------------------------------------------

    def write(
        self, points: PointBatch, text: TextBatch | None, events: Sequence[Event]
    ) -> WriteStats:
        with self._writing() as con:
            marks = self._marks.copy()
            try:
                with schema.transaction(con):
                    stored = insert_points(con, points, marks)
                    rollups.refresh(con, stored, self._marks, self._open_rows)
                    state_tracking.refresh(con, stored, self._tracked)
                    text_stored = insert_text(con, text) if text is not None and len(text) else 0
                    event_count = self._write_events(con, events)
            except BaseException:
                self._open_rows.discard()
                raise
            self._open_rows.commit()
            self._marks = marks
        offered = len(points) + (len(text) if text is not None else 0)
        return WriteStats(
            points=len(stored),
            text=text_stored,
            events=event_count,
            duplicates=offered - len(stored) - text_stored,
        )

    @staticmethod
    def _write_events(con: duckdb.DuckDBPyConnection, batch: Sequence[Event]) -> int:
        return events.write_events(con, batch) if batch else 0

    def delete_before(self, tier: Tier, cutoffs: Sequence[tuple[Micros, Sequence[int]]]) -> int:
        with self._writing() as con:
            self._open_rows.clear()
            with schema.transaction(con):
                return retention.delete_before(con, tier, cutoffs)

    # --- reads ---------------------------------------------------------------

    def read_raw(self, query: RawQuery) -> tuple[pa.Table, Cursor | None]:
        return self._read(lambda cur: reads.read_raw(cur, query))

    def latest(self, signal_ids: Sequence[int]) -> pa.Table:
        marks = [int(m) for m in self._marks.of_known(signal_ids)]
        since = min(marks) if marks else None
        return self._read(lambda cur: reads.latest(cur, signal_ids, since))

    def aggregate(self, query: AggregateQuery, tier: Tier) -> pa.Table:
        if not query.signal_ids or not query.aggs or query.start >= query.end:
            return aggregate_schema(query.aggs).empty_table()
        if query.every <= 0:
            raise ValueError(f"aggregate bucket width must be positive, got {query.every}us")
        sql = aggregate_sql(query, tier)
        table = self._read(lambda cur: fetch_table(cur, sql))
        return table if table.num_rows else aggregate_schema(query.aggs).empty_table()

    def track_states(self, signal_ids: Sequence[int]) -> int:
        with self._writing() as con:
            new = sorted({int(i) for i in signal_ids} - self._tracked)
            if new:
                with schema.transaction(con):
                    state_tracking.track(con, new)
                self._tracked = self._tracked | frozenset(new)
            return len(new)

    def state_durations(self, query: StateQuery) -> pa.Table:
        if not query.signal_ids or query.start >= min(query.end, query.now):
            return STATE_SCHEMA.empty_table()
        tier = choose_state_tier(query)
        sql = state_durations_sql(query, tier=tier, tracked=self._tracked)
        return self._read(lambda cur: fetch_table(cur, sql)).cast(STATE_SCHEMA)

    def read_events(self, query: EventQuery) -> list[Event]:
        return self._read(lambda cur: events.read_events(cur, query))

    # --- plumbing ------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._write_lock:
            if self._closed:
                raise HistorianClosedError(f"historian file {self._path} is closed")
            try:
                yield self._con
            except duckdb.Error as exc:
                raise HistorianError(f"write to historian file {self._path} failed: {exc}") from exc

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cursor: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cursor is None:
            with self._cursors_lock:
                if self._closed:
                    raise HistorianClosedError(f"historian file {self._path} is closed")
                cursor = self._con.cursor()
                self._cursors.append(cursor)
            self._local.cursor = cursor
        return cursor

    def _read(self, run: Callable[[duckdb.DuckDBPyConnection], _T]) -> _T:
        try:
            return run(self._cursor())
        except duckdb.Error as exc:
            raise HistorianError(f"read from historian file {self._path} failed: {exc}") from exc

"""``PostgresBackend``: the scale-out historian on a PostgreSQL server.

One connection, owned by the writer thread, does every write; readers borrow
autocommit connections from a small pool, so reads run concurrently with a
flush and see only committed flushes. All psycopg errors are translated here:
an unreachable or lost server is ``HistorianUnavailableError`` naming the URL
(password masked), anything else a ``HistorianError`` naming the schema.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import psycopg
import pyarrow as pa

from omp.core.batch import PointBatch, TextBatch
from omp.core.errors import HistorianClosedError, HistorianError, HistorianUnavailableError
from omp.core.events import Event
from omp.core.time import Micros
from omp.historian.backends.postgres import (
    catalog,
    events,
    reads,
    retention,
    state_tracking,
    writer,
)
from omp.historian.backends.postgres.aggregates import aggregate_sql, state_durations_sql
from omp.historian.backends.postgres.connection import (
    DEFAULT_CONNECT_TIMEOUT_S,
    ReaderPool,
    connect,
    mask_url,
)
from omp.historian.backends.postgres.partitions import PartitionManager
from omp.historian.backends.postgres.schema import Layout
from omp.historian.backends.postgres.sqltext import Names
from omp.historian.backends.postgres.store import StoreSettings, prepare
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

_T = TypeVar("_T")
Conn = psycopg.Connection[tuple[object, ...]]


class PostgresBackend:
    """A ``HistorianBackend`` in one schema of one PostgreSQL database.

    Open with ``PostgresBackend.open(url, schema=...)``.
    """

    def __init__(
        self, url: str, names: Names, settings: StoreSettings, *, connect_timeout_s: int
    ) -> None:
        self._url = url
        self._names = names
        self._settings = settings
        self._timeout = connect_timeout_s
        self._partitions = (
            PartitionManager(names.schema, width=settings.partition_width)
            if settings.layout is Layout.NATIVE
            else None
        )
        self._readers = ReaderPool(
            url,
            connect_timeout_s=connect_timeout_s,
            application_name=f"omp reader {names.schema}",
        )
        self._writer: Conn | None = None
        self._write_lock = threading.Lock()
        self._closed = False
        self._tracked: frozenset[int] = frozenset()

    @classmethod
    def open(
        cls,
        url: str,
        *,
        schema: str = "omp",
        partition_width: Micros | None = None,
        prefer_native: bool = False,
        connect_timeout_s: int = DEFAULT_CONNECT_TIMEOUT_S,
    ) -> PostgresBackend:
        """Connect, create ``schema`` and its tables if needed, and return the backend.

        ``partition_width`` (default: 1 hour for native partitions, 1 day for
        TimescaleDB chunks) and the layout only apply to a new schema; an
        existing one keeps what it was created with.
        TimescaleDB is used when its extension exists in the database, unless
        ``prefer_native``. Raises ``HistorianUnavailableError`` naming the URL
        when the server cannot be reached within ``connect_timeout_s``.
        """
        if partition_width is not None and partition_width <= 0:
            raise ValueError(f"partition_width must be positive, got {partition_width}")
        names = Names(schema)
        conn = connect(url, autocommit=True, connect_timeout_s=connect_timeout_s)
        try:
            settings = _translate(
                url,
                schema,
                "create the schema",
                lambda: prepare(
                    conn, names, partition_width=partition_width, prefer_native=prefer_native
                ),
            )
        finally:
            conn.close()
        backend = cls(url, names, settings, connect_timeout_s=connect_timeout_s)
        backend._writer_conn()  # fail now, not at the first flush
        backend._tracked = backend._in_write_transaction(
            "read the declared state signals", lambda c: state_tracking.load(c, names)
        )
        return backend

    @property
    def layout(self) -> Layout:
        return self._settings.layout

    def describe(self) -> str:
        return (
            f"{mask_url(self._url)} (schema {self._names.schema}, {self._settings.layout} layout)"
        )

    def close(self) -> None:
        with self._write_lock:
            self._closed = True
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        self._readers.close()

    # -- catalog -----------------------------------------------------------------

    def ensure_ids(self, paths: Sequence[str]) -> Mapping[str, int]:
        return self._read(
            "allocate signal ids", lambda c: catalog.ensure_ids(c, self._names, paths)
        )

    def signal_ids(self) -> Mapping[str, int]:
        return self._read("read the signal catalog", lambda c: catalog.all_ids(c, self._names))

    # -- writes ------------------------------------------------------------------

    def write(
        self, points: PointBatch, text: TextBatch | None, events_: Sequence[Event]
    ) -> WriteStats:
        """Store one flush in one transaction (see ``PointWriter.write``)."""
        setup = writer.WriterSetup(self._names, self._partitions, self._tracked)
        return self._in_write_transaction(
            "write a flush", lambda c: writer.write_flush(c, setup, points, text, events_)
        )

    def track_states(self, signal_ids: Sequence[int]) -> int:
        new = sorted({int(i) for i in signal_ids} - self._tracked)
        if new:
            self._in_write_transaction(
                "declare state signals", lambda c: state_tracking.track(c, self._names, new)
            )
            self._tracked = self._tracked | frozenset(new)
        return len(new)

    def delete_before(self, tier: Tier, cutoffs: Sequence[tuple[Micros, Sequence[int]]]) -> int:
        return self._in_write_transaction(
            f"apply retention to the {tier} tier",
            lambda c: retention.delete_before(c, self._names, self._partitions, tier, cutoffs),
        )

    # -- reads -------------------------------------------------------------------

    def read_raw(self, query: RawQuery) -> tuple[pa.Table, Cursor | None]:
        partitions = self._partitions

        def run(conn: Conn) -> tuple[pa.Table, Cursor | None]:
            windows = None
            if partitions is not None:
                windows = [(part.start, part.end) for part in partitions.list(conn)]
            return reads.read_raw(conn, self._names, query, windows=windows)

        return self._read("read raw points", run)

    def latest(self, signal_ids: Sequence[int]) -> pa.Table:
        ids = sorted(set(signal_ids))
        return self._read("read the latest points", lambda c: reads.latest(c, self._names, ids))

    def aggregate(self, query: AggregateQuery, tier: Tier) -> pa.Table:
        schema = aggregate_schema(query.aggs)
        if not query.signal_ids or query.start >= query.end:
            return schema.empty_table()
        if query.every <= 0:
            raise ValueError(f"every must be positive, got {query.every}")
        sql_text = aggregate_sql(self._names, query, tier)
        return self._read("aggregate", lambda c: reads.fetch_table(c, sql_text, schema))

    def state_durations(self, query: StateQuery) -> pa.Table:
        if not query.signal_ids or query.start >= min(query.end, query.now):
            return STATE_SCHEMA.empty_table()
        tier = choose_state_tier(query)
        sql_text = state_durations_sql(self._names, query, tier=tier, tracked=self._tracked)
        return self._read(
            "compute time in state", lambda c: reads.fetch_table(c, sql_text, STATE_SCHEMA)
        )

    def read_events(self, query: EventQuery) -> list[Event]:
        return self._read("read events", lambda c: events.read_events(c, self._names, query))

    # -- plumbing ----------------------------------------------------------------

    def _writer_conn(self) -> Conn:
        if self._writer is None or self._writer.closed or self._writer.broken:
            conn = connect(
                self._url,
                autocommit=True,
                connect_timeout_s=self._timeout,
                application_name=f"omp writer {self._names.schema}",
            )
            _translate(
                self._url,
                self._names.schema,
                "prepare the writer",
                lambda: writer.prepare_connection(conn),
            )
            self._writer = conn
        return self._writer

    def _in_write_transaction(self, action: str, run: Callable[[Conn], _T]) -> _T:
        with self._write_lock:
            if self._closed:
                raise HistorianClosedError(f"historian {self.describe()} is closed")
            conn = self._writer_conn()
            partitions = self._partitions

            def transaction() -> _T:
                try:
                    with conn.transaction():
                        result = run(conn)
                except BaseException:
                    if partitions is not None:
                        partitions.rolled_back()
                    raise
                if partitions is not None:
                    partitions.committed()
                return result

            return _translate(self._url, self._names.schema, action, transaction)

    def _read(self, action: str, run: Callable[[Conn], _T]) -> _T:
        if self._closed:
            raise HistorianClosedError(f"historian {self.describe()} is closed")

        def borrowed() -> _T:
            with self._readers.borrow() as conn:
                return run(conn)

        return _translate(self._url, self._names.schema, action, borrowed)


def _translate(url: str, schema: str, action: str, run: Callable[[], _T]) -> _T:
    """Run ``run``, turning psycopg errors into omp errors that name the URL or schema."""
    try:
        return run()
    except psycopg.OperationalError as exc:
        raise HistorianUnavailableError(
            f"PostgreSQL historian at {mask_url(url)} failed to {action}: {_first_line(exc)}"
        ) from None
    except psycopg.Error as exc:
        raise HistorianError(
            f"PostgreSQL historian at {mask_url(url)}, schema {schema}: could not {action}:"
            f" {_first_line(exc)}"
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

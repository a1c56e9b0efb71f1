"""Bulk import of history through ingest, so the same validation applies as for live data.

A chunk is decoded column by column (``decode``), the rows the decoder
cannot read are rejected here (malformed, naive time), and the rest goes to
``Ingest.submit`` as a numeric and a text batch; ingest rejects what the model
does not allow (unknown signal, NaN, wrong type, far future, before 1970).
Rejects of both kinds are reported with their position in the file.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from omp.core.batch import PointBatch, TextBatch
from omp.core.errors import OmpError
from omp.core.rejects import RejectReason
from omp.ingest.validate import OK, Checker
from omp.runtime.importing.decode import decode_paths, decode_quality, decode_ts, decode_values
from omp.runtime.importing.source import Chunk, ImportSource, Layout

MAX_EXAMPLES = 10


class SubmitOutcome(Protocol):
    @property
    def accepted(self) -> int: ...
    @property
    def rejected_rows(self) -> npt.NDArray[np.int64]: ...
    @property
    def reasons(self) -> npt.NDArray[np.uint8]: ...


class IngestPort(Protocol):
    """The part of ``Ingest`` an import uses."""

    def submit(
        self, batch: PointBatch | TextBatch, *, timeout: float | None = None
    ) -> SubmitOutcome: ...

    def record_rejects(self, reason: RejectReason, count: int = 1) -> None: ...


class ImportInterruptedError(OmpError):
    """The import stopped part-way (the file changed, the historian failed)."""


@dataclass(frozen=True, slots=True)
class BadRow:
    """One rejected point, for the report; ``position`` is a line or row number."""

    position: int
    reason: RejectReason
    path: str
    ts: str
    value: str
    detail: str = ""
    """Why, when the reason alone does not say (e.g. a record with too few cells)."""


@dataclass
class ImportReport:
    """What an import did: points seen, landed, and rejected by reason, with examples."""

    file: Path
    layout: Layout
    position_label: str
    points: int = 0
    accepted: int = 0
    rejected: Counter[RejectReason] = field(default_factory=Counter)
    examples: list[BadRow] = field(default_factory=list)
    done_through: int = 0
    """The last line (or row) whose chunk was handled completely: all its good points landed."""
    interrupted: bool = False
    """The import was stopped (Ctrl-C) before the end of the file; see ``unsure_through``."""
    unsure_through: int = 0
    """When interrupted inside a chunk: its last position. Lines after ``done_through`` up to
    this one may have landed in part; nothing after it landed. 0 when interrupted between chunks."""

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


@dataclass(frozen=True, slots=True)
class SignalTable:
    """Path -> id for every signal in the model, and which ids are text signals."""

    ids: Mapping[str, int]
    text_ids: frozenset[int]

    def is_text(self, signal_id: npt.NDArray[np.int32]) -> npt.NDArray[np.bool_]:
        if not self.text_ids:
            return np.zeros(len(signal_id), dtype=np.bool_)
        return np.isin(signal_id, np.fromiter(self.text_ids, dtype=np.int32))


def _cell(column: pa.Array | None, row: int) -> str:
    if column is None:
        return ""
    value = column[row].as_py()
    return "" if value is None else str(value)


_REASON_LABELS = pa.array([reason.value for reason in RejectReason], type=pa.string())
MALFORMED_RECORD = "wrong number of cells for the header"


class RejectsWriter(Protocol):
    """Where every rejected row goes, as a table: position, reason, path, ts, value, detail."""

    def write(self, table: pa.Table) -> None: ...


def rejects_schema(position_label: str) -> pa.Schema:
    """The columns of a rejects file; the first is named ``line`` (CSV) or ``row`` (Parquet)."""
    names = (position_label, "reason", "path", "ts", "value", "detail")
    return pa.schema([(names[0], pa.int64())] + [(name, pa.string()) for name in names[1:]])


def _text_of(column: pa.Array | None, rows: pa.Array) -> pa.Array:
    if column is None:
        return pa.nulls(len(rows), type=pa.string())
    return pc.cast(column, pa.string()).take(rows)


class _Run:
    """The state of one import while it runs."""

    def __init__(
        self,
        source: ImportSource,
        signals: SignalTable,
        ingest: IngestPort,
        rejects: RejectsWriter | None,
    ) -> None:
        self.signals = signals
        self.ingest = ingest
        self.rejects = rejects
        self._pending: list[pa.Table] = []
        """This chunk's rejected rows, written sorted when the chunk is done (file order)."""
        self._malformed: pa.Table | None = None
        """Malformed records not yet written: each goes out with the chunk around it."""
        self.schema = rejects_schema(source.position_label)
        self.report = ImportReport(source.file, source.layout, source.position_label)
        malformed = source.malformed_positions
        if len(malformed):
            self._malformed_records(malformed)

    def _malformed_records(self, lines: npt.NDArray[np.int64]) -> None:
        count = len(lines)
        self.report.points += count
        self.report.rejected[RejectReason.MALFORMED] += count
        self.ingest.record_rejects(RejectReason.MALFORMED, count)
        self.report.examples += [
            BadRow(int(line), RejectReason.MALFORMED, "", "", "", detail=MALFORMED_RECORD)
            for line in lines[:MAX_EXAMPLES]
        ]
        if self.rejects is not None:
            empty = pa.nulls(count, type=pa.string())
            reason = pa.array([RejectReason.MALFORMED.value] * count, type=pa.string())
            detail = pa.array([MALFORMED_RECORD] * count, type=pa.string())
            columns = [pa.array(lines), reason, empty, empty, empty, detail]
            self._malformed = pa.table(columns, schema=self.schema)

    def chunk(self, chunk: Chunk) -> None:
        try:
            self._decode_and_submit(chunk)
        finally:  # even when interrupted: what was rejected so far is reported
            through = int(chunk.position.max()) if len(chunk) else None
            if through is not None:
                self.write_rejects(through=through)

    def _decode_and_submit(self, chunk: Chunk) -> None:
        n = len(chunk)
        self.report.points += n
        if n == 0:
            return
        checker = Checker(np.full(n, OK, dtype=np.uint8))
        signal_id, _ = decode_paths(chunk.path, self.signals.ids)
        ts = decode_ts(chunk.ts, checker)
        values, not_number = decode_values(chunk.value, checker)
        quality = decode_quality(chunk.quality, n, checker)
        decoded = checker.good
        if not decoded.all():
            bad = np.flatnonzero(~decoded)
            self._reject(chunk, bad, checker.reasons[bad], count_in_ingest=True)
        as_text = decoded & (self.signals.is_text(signal_id) | not_number)
        as_number = decoded & ~as_text
        if as_number.any():
            rows = np.flatnonzero(as_number)
            batch = PointBatch(signal_id[rows], ts[rows], values[rows], quality[rows])
            self._submit(chunk, rows, batch)
        if as_text.any():
            rows = np.flatnonzero(as_text)
            text = pc.cast(chunk.value, pa.string()).take(pa.array(rows))
            self._submit(chunk, rows, TextBatch(signal_id[rows], ts[rows], text, quality[rows]))
        # Chunks come in file order, so keeping the lowest positions keeps the first bad rows.
        self.report.examples.sort(key=lambda bad: bad.position)
        del self.report.examples[MAX_EXAMPLES:]

    def _submit(
        self, chunk: Chunk, rows: npt.NDArray[np.int64], batch: PointBatch | TextBatch
    ) -> None:
        outcome = self.ingest.submit(batch)
        self.report.accepted += outcome.accepted
        if len(outcome.rejected_rows):
            self._reject(chunk, rows[outcome.rejected_rows], outcome.reasons, count_in_ingest=False)

    def _reject(
        self,
        chunk: Chunk,
        rows: npt.NDArray[np.int64],
        codes: npt.NDArray[np.uint8],
        *,
        count_in_ingest: bool,
    ) -> None:
        found, counts = np.unique(codes, return_counts=True)
        for code, count in zip(found, counts, strict=True):
            reason = RejectReason.from_code(int(code))
            self.report.rejected[reason] += int(count)
            if count_in_ingest:  # ingest counts its own rejects; the decoder's are told to it
                self.ingest.record_rejects(reason, int(count))
        for row, code in zip(rows[:MAX_EXAMPLES], codes[:MAX_EXAMPLES], strict=True):
            self.report.examples.append(
                BadRow(
                    int(chunk.position[row]),
                    RejectReason.from_code(int(code)),
                    _cell(chunk.path, int(row)),
                    _cell(chunk.ts, int(row)),
                    _cell(chunk.value, int(row)),
                )
            )
        if self.rejects is not None:
            taken = pa.array(rows)
            columns = [
                pa.array(chunk.position[rows]),
                _REASON_LABELS.take(pa.array(codes.astype(np.int32))),
                _text_of(chunk.path, taken),
                _text_of(chunk.ts, taken),
                _text_of(chunk.value, taken),
                pa.nulls(len(rows), type=pa.string()),
            ]
            self._pending.append(pa.table(columns, schema=self.schema))

    def write_rejects(self, *, through: int | None) -> None:
        """Write the pending rejects, and malformed records up to ``through`` (all if None),
        in file order."""
        if self.rejects is None:
            return
        tables, self._pending = self._pending, []
        if self._malformed is not None:
            position = self._malformed.column(0)
            if through is None:
                tables.append(self._malformed)
                self._malformed = None
            else:
                due = pc.less_equal(position, through)
                tables.append(self._malformed.filter(due))
                self._malformed = self._malformed.filter(pc.invert(due))
        tables = [table for table in tables if table.num_rows]
        if tables:
            merged = pa.concat_tables(tables)
            order = pc.sort_indices(merged, sort_keys=[(self.schema.names[0], "ascending")])
            self.rejects.write(merged.take(order))


def import_source(
    source: ImportSource,
    *,
    signals: SignalTable,
    ingest: IngestPort,
    flush: Callable[[], None],
    progress: Callable[[int], None] | None = None,
    rejects: RejectsWriter | None = None,
    stop: threading.Event | None = None,
) -> ImportReport:
    """Import every chunk of ``source``, flush the historian, and report.

    ``progress`` is called with the number of file rows each chunk covered;
    ``rejects``, when given, receives every rejected row (see ``rejects_schema``).
    Rejected points never stop the import; a failure of the file or the
    historian does, with ``ImportInterruptedError`` saying how far it got.

    A set ``stop`` event (checked after each chunk) or a ``KeyboardInterrupt``
    ends the import early: what was accepted is flushed and the report is
    returned with ``interrupted`` set and how far it got (``done_through``,
    ``unsure_through``). Re-running the import is safe: stored points keep
    their first value.
    """
    run = _Run(source, signals, ingest, rejects)
    current = 0
    try:
        for handled, chunk in enumerate(source.chunks()):
            # Checked once a next chunk exists: the chunk in hand always completes (as the
            # message promises), and a stop asked during the last chunk ends the import normally.
            if stop is not None and stop.is_set() and handled:
                run.report.interrupted = True
                break
            current = int(chunk.position.max()) if len(chunk) else run.report.done_through
            run.chunk(chunk)
            run.report.done_through = max(run.report.done_through, current)
            if progress is not None:
                progress(chunk.source_rows)
    except KeyboardInterrupt:
        run.report.interrupted = True
        if current > run.report.done_through:
            run.report.unsure_through = current
    except OmpError as exc:
        raise _stopped(source, run.report, exc) from exc
    if not run.report.interrupted:
        run.write_rejects(through=None)  # malformed records after the last good one
    _flush_through_interrupts(flush, source, run.report)
    run.report.examples.sort(key=lambda bad: bad.position)
    return run.report


def _flush_through_interrupts(
    flush: Callable[[], None], source: ImportSource, report: ImportReport
) -> None:
    # A Ctrl-C during the final flush must not lose the report of what landed:
    # the flush is finished (it is bounded by the queue) and the interrupt noted.
    while True:
        try:
            flush()
        except KeyboardInterrupt:
            report.interrupted = True
            continue
        except OmpError as exc:
            raise _stopped(source, report, exc) from exc
        return


def _stopped(source: ImportSource, report: ImportReport, exc: OmpError) -> ImportInterruptedError:
    return ImportInterruptedError(
        f"{source.file}: import stopped after {report.accepted} accepted points: {exc}"
    )

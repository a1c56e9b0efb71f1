"""An interrupted import flushes what it accepted and says exactly how far it got."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from omp.bus import Bus
from omp.core.batch import PointBatch, TextBatch
from omp.core.rejects import RejectReason
from omp.ingest import Ingest
from omp.model import Registry
from omp.runtime.importing import Layout, SignalTable, import_source
from omp.runtime.importing.importer import SubmitOutcome
from omp.runtime.importing.source import Chunk, to_chunk
from tests.unit.runtime.conftest import MILL, RecordingHistorian

TEMP = f"{MILL}/spindle_temp"
ORDER = f"{MILL}/current_order"


def _chunk(first_line: int, rows: list[tuple[str, str]]) -> Chunk:
    ts = [f"2026-01-01T00:00:{first_line % 60:02d}.{i:06d}Z" for i in range(len(rows))]
    table = pa.table({"path": [p for p, _ in rows], "ts": ts, "value": [v for _, v in rows]})
    lines = np.arange(first_line, first_line + len(rows), dtype=np.int64)
    return to_chunk(Layout.LONG, table, lines)


@dataclass
class ChunkedSource:
    chunk_list: list[Chunk]
    file: Path = Path("history.csv")
    layout: Layout = Layout.LONG
    total_rows: int = 0
    position_label: str = "line"
    malformed_positions: npt.NDArray[np.int64] = field(
        default_factory=lambda: np.zeros(0, dtype=np.int64)
    )

    def chunks(self) -> Iterator[Chunk]:
        yield from self.chunk_list


class InterruptingIngest:
    """Real ingest, except that the ``fail_on``-th submit is hit by Ctrl-C."""

    def __init__(self, ingest: Ingest, *, fail_on: int) -> None:
        self._ingest = ingest
        self._fail_on = fail_on
        self.submits = 0

    def submit(
        self, batch: PointBatch | TextBatch, *, timeout: float | None = None
    ) -> SubmitOutcome:
        self.submits += 1
        if self.submits == self._fail_on:
            raise KeyboardInterrupt
        return self._ingest.submit(batch, timeout=timeout)

    def record_rejects(self, reason: RejectReason, count: int = 1) -> None:
        self._ingest.record_rejects(reason, count)


def _signals(registry: Registry) -> SignalTable:
    return SignalTable(
        ids=registry.ids, text_ids=frozenset(s.id for s in registry.signals if s.is_text)
    )


def test_a_stop_request_ends_the_import_between_chunks(registry: Registry) -> None:
    historian = RecordingHistorian()
    ingest = Ingest(registry, historian=historian, bus=Bus())
    stop = threading.Event()
    source = ChunkedSource(
        [_chunk(2, [(TEMP, "1"), (TEMP, "2")]), _chunk(4, [(TEMP, "3")]), _chunk(5, [(TEMP, "4")])]
    )
    report = import_source(
        source,
        signals=_signals(registry),
        ingest=ingest,
        flush=historian.flush,
        progress=lambda rows: stop.set(),  # "Ctrl-C" right after the first chunk
        stop=stop,
    )
    assert report.interrupted
    assert (report.accepted, report.done_through, report.unsure_through) == (2, 3, 0)
    assert historian.flushes == 1
    assert sum(len(b) for b in historian.batches) == 2


def test_ctrl_c_inside_a_chunk_names_the_lines_that_may_have_landed(registry: Registry) -> None:
    historian = RecordingHistorian()
    ingest = InterruptingIngest(Ingest(registry, historian=historian, bus=Bus()), fail_on=3)
    # chunk 1: one numeric submit; chunk 2: numeric, then text (interrupted); chunk 3 never read
    source = ChunkedSource(
        [
            _chunk(2, [(TEMP, "1")]),
            _chunk(3, [(TEMP, "2"), (ORDER, "PO-1"), (TEMP, "3")]),
            _chunk(6, [(TEMP, "4")]),
        ]
    )
    report = import_source(source, signals=_signals(registry), ingest=ingest, flush=historian.flush)
    assert report.interrupted
    assert (report.done_through, report.unsure_through) == (2, 5)
    assert report.accepted == 3  # line 2, then lines 3 and 5 of the interrupted chunk
    assert historian.flushes == 1


def test_ctrl_c_during_the_final_flush_still_flushes_and_reports(registry: Registry) -> None:
    historian = RecordingHistorian()
    ingest = Ingest(registry, historian=historian, bus=Bus())
    calls: list[int] = []

    def flush() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt
        historian.flush()

    report = import_source(
        ChunkedSource([_chunk(2, [(TEMP, "1")])]), signals=_signals(registry), ingest=ingest,
        flush=flush,
    )  # fmt: skip
    assert report.interrupted
    assert (report.accepted, report.done_through) == (1, 2)
    assert historian.flushes == 1


def test_a_stop_asked_during_the_last_chunk_ends_the_import_normally(registry: Registry) -> None:
    historian = RecordingHistorian()
    ingest = Ingest(registry, historian=historian, bus=Bus())
    stop = threading.Event()
    source = ChunkedSource([_chunk(2, [(TEMP, "1")]), _chunk(3, [(TEMP, "2")])])
    seen: list[int] = []

    def progress(rows: int) -> None:
        seen.append(rows)
        if len(seen) == 2:
            stop.set()

    report = import_source(
        source, signals=_signals(registry), ingest=ingest, flush=historian.flush,
        progress=progress, stop=stop,
    )  # fmt: skip
    assert not report.interrupted
    assert (report.accepted, report.done_through) == (2, 3)

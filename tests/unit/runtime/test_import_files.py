"""Import files whose shape is unusual but valid, or wrong in a way the user must be told."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from omp.bus import Bus
from omp.ingest import Ingest
from omp.model import Registry
from omp.runtime.importing import (
    ImportFileError,
    ImportReport,
    SignalTable,
    import_source,
    open_source,
)
from omp.runtime.importing.csvlines import record_lines
from tests.unit.runtime.conftest import MILL, RecordingHistorian

TEMP = f"{MILL}/spindle_temp"
TS = "2026-01-01T00:00:00Z"


def _import(path: Path, registry: Registry) -> tuple[ImportReport, RecordingHistorian]:
    historian = RecordingHistorian()
    ingest = Ingest(registry, historian=historian, bus=Bus())
    signals = SignalTable(
        ids=registry.ids, text_ids=frozenset(s.id for s in registry.signals if s.is_text)
    )
    report = import_source(open_source(path), signals=signals, ingest=ingest, flush=historian.flush)
    return report, historian


def test_a_header_with_spaces_after_the_commas_imports(tmp_path: Path, registry: Registry) -> None:
    path = tmp_path / "spaces.csv"
    path.write_text(
        "path, ts, value\n"
        f"{TEMP},2026-01-01T00:00:00Z,1.5\n"
        f"{TEMP},2026-01-01T00:00:01Z\n"
        f"{TEMP},2026-01-01T00:00:02Z,2.5\n"
    )
    report, historian = _import(path, registry)
    assert report.accepted == 2
    assert [bad.position for bad in report.examples] == [3]  # line numbers still count the header
    assert [v for b in historian.batches for v in b.value.tolist()] == [1.5, 2.5]


def test_a_wide_header_with_spaces_names_the_signals(tmp_path: Path, registry: Registry) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(f"ts , {TEMP} \n2026-01-01T00:00:00Z,7\n")
    report, _ = _import(path, registry)
    assert (report.accepted, report.rejected_total) == (1, 0)


@pytest.mark.parametrize(
    ("columns", "culprit"),
    [
        (
            {"path": [TEMP], "ts": [TS], "value": [[1.0, 2.0]]},
            "'value' has type list<element: double>",
        ),
        ({"path": [1], "ts": [TS], "value": [1.0]}, "'path' has type int64"),
        ({"path": [TEMP], "ts": [1], "value": [1.0]}, "'ts' has type int64"),
        ({"ts": [TS], TEMP: [{"a": 1}]}, f"{TEMP!r} has type struct<a: int64>"),
    ],
)
def test_parquet_columns_of_a_type_that_cannot_be_imported_fail_at_open(
    tmp_path: Path, columns: dict[str, list[object]], culprit: str
) -> None:
    path = tmp_path / "typed.parquet"
    pq.write_table(pa.table(columns), path)
    with pytest.raises(ImportFileError) as caught:
        open_source(path)
    assert str(caught.value).startswith(f"{path}: column {culprit}")


def test_parquet_dictionary_paths_and_zoned_timestamps_are_accepted(
    tmp_path: Path, registry: Registry
) -> None:
    path = tmp_path / "typed.parquet"
    ts = pa.array([1_767_225_600_000_000], type=pa.timestamp("us", tz="Europe/Berlin"))
    paths = pa.array([TEMP]).dictionary_encode()
    pq.write_table(pa.table({"path": paths, "ts": ts, "value": [3]}), path)
    report, _ = _import(path, registry)
    assert (report.accepted, report.rejected_total) == (1, 0)


def test_positions_are_file_lines_after_cells_that_span_lines(
    tmp_path: Path, registry: Registry
) -> None:
    path = tmp_path / "multiline.csv"
    path.write_text(
        "path,ts,value\n"
        f"{TEMP},2026-01-01T00:00:00Z,1\n"  # line 2
        f'{MILL}/current_order,2026-01-01T00:00:01Z,"PO\n4711"\n'  # lines 3-4
        f"{TEMP},2026-01-01T00:00:02Z\n"  # line 5: too few cells
        f"{TEMP},2026-01-01T00:00:03,4\n"  # line 6: naive
        f'{TEMP},"2026-01-01\n",5,6\n'  # lines 7-8: too many cells
        f"{TEMP},2026-01-01T00:00:05,7\n"  # line 9: naive
    )
    report, _ = _import(path, registry)
    assert report.accepted == 2
    assert [(bad.position, bad.reason.value) for bad in report.examples] == [
        (5, "malformed"),
        (6, "naive_timestamp"),
        (7, "malformed"),
        (9, "naive_timestamp"),
    ]


def test_record_lines_hold_across_read_blocks(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('a,b\n1,"x\ny"\n2,"""q""\n\nz"\n3,4\n')
    for block_bytes in (1, 3, 7, 1 << 20):
        lines = record_lines(path, block_bytes=block_bytes)
        assert lines.of(np.array([1, 2, 3, 4])).tolist() == [1, 2, 4, 7], block_bytes


class RecordingRejects:
    def __init__(self) -> None:
        self.tables: list[pa.Table] = []

    def write(self, table: pa.Table) -> None:
        self.tables.append(table)


def test_the_rejects_file_is_in_file_order(tmp_path: Path, registry: Registry) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(
        "path,ts,value\n"
        f"{TEMP},2026-01-01T00:00:00Z,nan\n"  # 2: rejected by ingest (not finite)
        f"{TEMP},2026-01-01T00:00:01,1\n"  # 3: rejected by the decoder (naive)
        f"{TEMP},2026-01-01T00:00:02Z\n"  # 4: malformed record
        f"{MILL}/nope,2026-01-01T00:00:03Z,1\n"  # 5: unknown signal (ingest)
        f"{TEMP},yesterday,1\n"  # 6: decoder
        f"{TEMP},2026-01-01T00:00:05Z,1,2\n"  # 7: malformed record
    )
    historian = RecordingHistorian()
    ingest = Ingest(registry, historian=historian, bus=Bus())
    rejects = RecordingRejects()
    import_source(
        open_source(path),
        signals=SignalTable(ids=registry.ids, text_ids=frozenset()),
        ingest=ingest,
        flush=historian.flush,
        rejects=rejects,
    )
    written = pa.concat_tables(rejects.tables)
    assert written.column("line").to_pylist() == [2, 3, 4, 5, 6, 7]
    assert written.column("reason").to_pylist() == [
        "not_finite", "naive_timestamp", "malformed", "unknown_signal", "malformed", "malformed",
    ]  # fmt: skip

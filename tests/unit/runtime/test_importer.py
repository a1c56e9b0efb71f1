"""Import through the real ingest pipeline into a recording historian."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from omp.bus import Bus
from omp.core.rejects import RejectReason
from omp.core.time import parse_rfc3339
from omp.ingest import Ingest
from omp.model import Registry
from omp.runtime.importing import (
    ImportFileError,
    ImportReport,
    Layout,
    SignalTable,
    import_source,
    open_source,
)
from tests.unit.runtime.conftest import MILL, RecordingHistorian

TEMP = f"{MILL}/spindle_temp"
ORDER = f"{MILL}/current_order"


def _import(path: Path, registry: Registry) -> tuple[ImportReport, RecordingHistorian, Ingest]:
    historian = RecordingHistorian()
    ingest = Ingest(registry, historian=historian, bus=Bus())
    signals = SignalTable(
        ids=registry.ids, text_ids=frozenset(s.id for s in registry.signals if s.is_text)
    )
    seen: list[int] = []
    report = import_source(
        open_source(path),
        signals=signals,
        ingest=ingest,
        flush=historian.flush,
        progress=seen.append,
    )
    assert historian.flushes == 1
    assert sum(seen) > 0
    return report, historian, ingest


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "history.csv"
    path.write_text(text)
    return path


def test_good_rows_land_and_bad_rows_are_reported_by_line(
    tmp_path: Path, registry: Registry
) -> None:
    path = _csv(
        tmp_path,
        "path,ts,value,quality\n"
        f"{TEMP},2026-01-01T00:00:00Z,21.5,good\n"  # line 2
        f"{TEMP},2026-01-01T00:00:01,21.6,good\n"  # 3: naive
        f"{MILL}/nope,2026-01-01T00:00:02Z,1,good\n"  # 4: unknown signal
        f"{TEMP},2026-01-01T00:00:03Z\n"  # 5: too few cells
        f"{TEMP},2026-01-01T00:00:04Z,inf,good\n"  # 6: not finite
        f"{ORDER},2026-01-01T00:00:05Z,PO-1,uncertain\n"  # 7: text, lands
        f"{TEMP},2026-01-01T00:00:06Z,warm,good\n"  # 8: text for a number
        f"{TEMP},2026-01-01T00:00:07+01:00,22,bad\n",  # 9: lands
    )
    report, historian, ingest = _import(path, registry)
    assert report.layout is Layout.LONG
    assert report.points == 8
    assert report.accepted == 3
    assert dict(report.rejected) == {
        RejectReason.NAIVE_TIMESTAMP: 1,
        RejectReason.UNKNOWN_SIGNAL: 1,
        RejectReason.MALFORMED: 1,
        RejectReason.NOT_FINITE: 1,
        RejectReason.WRONG_TYPE: 1,
    }
    assert [(b.position, b.reason) for b in report.examples] == [
        (3, RejectReason.NAIVE_TIMESTAMP),
        (4, RejectReason.UNKNOWN_SIGNAL),
        (5, RejectReason.MALFORMED),
        (6, RejectReason.NOT_FINITE),
        (8, RejectReason.WRONG_TYPE),
    ]
    assert report.examples[1].path == f"{MILL}/nope"
    (numbers,) = historian.points()
    assert numbers.value.tolist() == [21.5, 22.0]
    assert numbers.ts.tolist() == [
        parse_rfc3339("2026-01-01T00:00:00Z"),
        parse_rfc3339("2026-01-01T00:00:07+01:00"),
    ]
    assert numbers.quality.tolist() == [0, 2]
    (text,) = historian.texts()
    assert text.value.to_pylist() == ["PO-1"]
    # the pipeline's own counters include the decoder's rejects
    assert ingest.stats().rejected[RejectReason.NAIVE_TIMESTAMP] == 1
    assert ingest.stats().rejected[RejectReason.MALFORMED] == 1


def test_wide_parquet_lands_every_present_cell(tmp_path: Path, registry: Registry) -> None:
    ts = pa.array(
        [parse_rfc3339("2026-01-01T00:00:00Z"), parse_rfc3339("2026-01-01T00:00:01Z")],
        pa.timestamp("us", tz="UTC"),
    )
    path = tmp_path / "wide.parquet"
    pq.write_table(
        pa.table({"ts": ts, TEMP: [20.0, None], f"{MILL}/spindle_power": [1.0, 2.0]}), path
    )
    report, historian, _ = _import(path, registry)
    assert report.layout is Layout.WIDE
    assert (report.points, report.accepted, report.rejected_total) == (3, 3, 0)
    landed = historian.points()[0]
    assert sorted(landed.value.tolist()) == [1.0, 2.0, 20.0]


def test_parquet_rows_are_numbered_from_one(tmp_path: Path, registry: Registry) -> None:
    path = tmp_path / "long.parquet"
    pq.write_table(
        pa.table(
            {
                "path": [TEMP, TEMP, "x/y"],
                "ts": ["2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"],
                "value": [1.0, np.nan, 3.0],
            }
        ),
        path,
    )
    report, _, _ = _import(path, registry)
    assert [(b.position, b.reason) for b in report.examples] == [
        (2, RejectReason.NOT_FINITE),
        (3, RejectReason.UNKNOWN_SIGNAL),
    ]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("path,ts\n", "missing column 'value'"),
        ("path,ts,value,unit\n", "unexpected column 'unit'"),
        ("when,value\n", "no 'ts' column"),
        ("ts\n", "only a 'ts' column"),
    ],
)
def test_a_file_with_wrong_columns_is_refused_whole(
    tmp_path: Path, header: str, message: str
) -> None:
    path = _csv(tmp_path, header + "a,b,c,d\n")
    with pytest.raises(ImportFileError, match=message) as info:
        open_source(path)
    assert str(path) in str(info.value)


def test_broken_encoding_is_found_before_anything_lands(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    good = f"{TEMP},2026-01-01T00:00:00Z,1\n".encode() * 50_000
    path.write_bytes(b"path,ts,value\n" + good + b"\xff\xfe,2026-01-01T00:00:00Z,1\n")
    with pytest.raises(ImportFileError, match=r"history\.csv"):
        open_source(path)


def test_unknown_file_types_and_missing_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="no such file"):
        open_source(tmp_path / "gone.csv")
    other = tmp_path / "data.xlsx"
    other.write_text("x")
    with pytest.raises(ImportFileError, match=r"\.xlsx"):
        open_source(other)
    fake = tmp_path / "data.parquet"
    fake.write_text("not parquet")
    with pytest.raises(ImportFileError, match="not a readable Parquet file"):
        open_source(fake)


class CollectRejects:
    def __init__(self) -> None:
        self.tables: list[pa.Table] = []

    def write(self, table: pa.Table) -> None:
        self.tables.append(table)

    def all(self) -> pa.Table:
        return pa.concat_tables(self.tables)


def test_every_rejected_row_can_be_written_out(tmp_path: Path, registry: Registry) -> None:
    rows = ["path,ts,value"]
    rows += [f"{TEMP},2026-01-01T00:00:{i:02d}Z,{'nan' if i % 3 == 0 else i}" for i in range(30)]
    rows.append(f"{TEMP},oops")
    path = _csv(tmp_path, "\n".join(rows) + "\n")
    historian = RecordingHistorian()
    ingest = Ingest(registry, historian=historian, bus=Bus())
    collected = CollectRejects()
    report = import_source(
        open_source(path),
        signals=SignalTable(ids=registry.ids, text_ids=frozenset()),
        ingest=ingest,
        flush=historian.flush,
        rejects=collected,
    )
    table = collected.all()
    assert table.column_names == ["line", "reason", "path", "ts", "value", "detail"]
    assert report.rejected_total == table.num_rows == 11
    by_line = {r["line"]: r for r in table.to_pylist()}
    assert by_line[2]["reason"] == "not_finite"
    assert by_line[2]["value"] == "nan"
    assert by_line[32]["detail"] == "wrong number of cells for the header"
    assert sorted(by_line) == [*range(2, 32, 3), 32]


def test_the_examples_are_the_first_bad_rows_of_the_file(
    tmp_path: Path, registry: Registry
) -> None:
    # numeric rejects early in the file, decoder rejects later: examples follow the file
    rows = ["path,ts,value"]
    rows += [f"{TEMP},2026-01-01T00:00:{i:02d}Z,inf" for i in range(12)]
    rows += [f"{TEMP},2026-01-01T00:01:{i:02d},1" for i in range(12)]
    path = _csv(tmp_path, "\n".join(rows) + "\n")
    report, _, _ = _import(path, registry)
    assert [b.position for b in report.examples] == list(range(2, 12))
    assert {b.reason for b in report.examples} == {RejectReason.NOT_FINITE}

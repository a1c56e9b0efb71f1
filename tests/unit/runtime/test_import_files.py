"""Import files whose shape is unusual but valid, or wrong in a way the user must be told."""

from __future__ import annotations

from pathlib import Path

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

"""Import files whose shape is unusual but valid, or wrong in a way the user must be told."""

from __future__ import annotations

from pathlib import Path

from omp.bus import Bus
from omp.ingest import Ingest
from omp.model import Registry
from omp.runtime.importing import ImportReport, SignalTable, import_source, open_source
from tests.unit.runtime.conftest import MILL, RecordingHistorian

TEMP = f"{MILL}/spindle_temp"


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

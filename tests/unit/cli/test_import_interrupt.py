"""Ctrl-C during ``omp import``: the first one stops after the chunk in hand, and the
message says exactly what landed."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from omp.cli.importing import _first_ctrl_c_stops, _print_interruption
from omp.runtime.importing import ImportReport, Layout


def _ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.05)  # the handler runs on the main thread at the next bytecode


def test_first_ctrl_c_asks_to_stop_and_a_second_interrupts() -> None:
    before = signal.getsignal(signal.SIGINT)
    stop = threading.Event()
    with _first_ctrl_c_stops(stop):
        _ctrl_c()
        assert stop.is_set()
        with pytest.raises(KeyboardInterrupt):
            _ctrl_c()
    assert signal.getsignal(signal.SIGINT) is before


def test_the_message_names_the_last_line_landed_and_that_a_rerun_is_safe(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = ImportReport(Path("h.csv"), Layout.LONG, "line", points=10, accepted=9)
    report.interrupted, report.done_through = True, 11
    _print_interruption(report)
    text = capsys.readouterr().err
    assert "interrupted: 9 points landed, every good point up to line 11 of h.csv" in text
    assert "nothing after line 11 landed" in text
    assert "re-running the same import is safe" in text


def test_an_interruption_inside_a_chunk_names_the_uncertain_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = ImportReport(Path("h.parquet"), Layout.WIDE, "row", accepted=3)
    report.interrupted, report.done_through, report.unsure_through = True, 0, 131_072
    _print_interruption(report)
    text = capsys.readouterr().err
    assert "every good point up to the start of h.parquet" in text
    assert "rows 1 to 131072 may have landed in part; nothing after row 131072 landed" in text

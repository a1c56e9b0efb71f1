"""Helpers for CLI integration tests: the example model, a history file, a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from omp.cli import app

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "factory.yaml"
MILL = "acme/munich/machining/line_1/milling/mill_01"
TEMP = f"{MILL}/spindle_temp"
POWER = f"{MILL}/spindle_power"
ORDER = f"{MILL}/current_order"
RANGE = ["--from", "2026-01-01T00:00:00Z", "--to", "2026-01-02T00:00:00Z"]


def omp(*args: str) -> Result:
    """Run one ``omp`` command in this process."""
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """A long-layout CSV: 180 good points of two signals, a text point and two bad rows."""
    lines = ["path,ts,value,quality"]
    for i in range(90):
        ts = f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}Z"
        lines.append(f"{TEMP},{ts},{20 + i / 10},good")
        lines.append(f"{POWER},{ts},{i},good")
    lines.append(f"{ORDER},2026-01-01T00:00:00Z,PO-4711,good")
    lines.append(f"{TEMP},2026-01-01T00:05:00,1,good")  # naive
    lines.append(f"{MILL}/no_such_signal,2026-01-01T00:05:00Z,1,good")
    path = tmp_path / "history.csv"
    path.write_text("\n".join(lines) + "\n")
    return path

"""``_write``: an output file is replaced only by a complete result."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from omp.cli.query import _write
from omp.core.errors import OmpError
from omp.runtime.formats import OutputFormat


def _pages_then_failure() -> Iterator[pa.Table]:
    yield pa.table({"path": ["a"], "value": [1.0]})
    raise OmpError("the historian went away")


@pytest.mark.parametrize("fmt", [OutputFormat.CSV, OutputFormat.PARQUET])
def test_a_failure_mid_write_keeps_the_old_file_and_leaves_no_scratch(
    tmp_path: Path, fmt: OutputFormat
) -> None:
    target = tmp_path / "out.data"
    target.write_bytes(b"previous result\n")
    with pytest.raises(OmpError, match="went away"):
        _write(_pages_then_failure(), fmt, target)
    assert target.read_bytes() == b"previous result\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.data"]


def test_a_failure_before_any_file_existed_leaves_none(tmp_path: Path) -> None:
    target = tmp_path / "new.csv"
    with pytest.raises(OmpError):
        _write(_pages_then_failure(), OutputFormat.CSV, target)
    assert list(tmp_path.iterdir()) == []


def test_a_complete_write_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("previous\n")
    rows = _write(iter([pa.table({"v": [1, 2]})]), OutputFormat.CSV, target)
    assert rows == 2
    assert target.read_text().splitlines() == ['"v"', "1", "2"]

"""Ctrl-C during a real ``omp import`` process: it stops, flushes, and says what landed."""

from __future__ import annotations

import io
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.csv as pacsv
import pytest

from tests.integration.cli.conftest import EXAMPLE, TEMP, omp

ROWS = 400_000  # about five 8 MiB CSV blocks: the import is still running when Ctrl-C comes
SIGINT_BIT = 1 << (signal.SIGINT - 1)


def _catches_sigint(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status").read_text()
    caught = re.search(r"^SigCgt:\s*([0-9a-f]+)$", status, re.MULTILINE)
    return caught is not None and bool(int(caught.group(1), 16) & SIGINT_BIT)


def _ignore_sigint() -> None:
    # Started with Ctrl-C ignored, Python installs no handler of its own: the import's
    # handler showing up in /proc says the import phase has begun.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_ctrl_c_lands_a_prefix_and_says_exactly_what(tmp_path: Path) -> None:
    data = tmp_path / "data"
    source = tmp_path / "big.csv"
    with source.open("w") as handle:
        handle.write("path,ts,value\n")
        for i in range(ROWS):
            handle.write(f"{TEMP},2026-01-0{1 + i // 86_400}T{i // 3600 % 24:02d}:"
                         f"{i // 60 % 60:02d}:{i % 60:02d}Z,{i}\n")  # fmt: skip
    command = [
        sys.executable, "-c", "from omp.cli import main; main()",
        "import", str(source), "--data-dir", str(data), "--model", str(EXAMPLE),
    ]  # fmt: skip
    with subprocess.Popen(
        command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, preexec_fn=_ignore_sigint
    ) as process:
        deadline = time.monotonic() + 60
        while not _catches_sigint(process.pid):
            assert process.poll() is None, "the import ended before its Ctrl-C handler was seen"
            assert time.monotonic() < deadline
            time.sleep(0.002)
        process.send_signal(signal.SIGINT)
        assert process.stderr is not None
        stderr = process.stderr.read().decode()
        code = process.wait(timeout=60)
    assert code == 130, stderr
    match = re.search(
        r"interrupted: (\d+) points landed, every good point up to line (\d+)", stderr
    )
    assert match is not None, stderr
    landed, line = int(match.group(1)), int(match.group(2))
    assert 0 < landed < ROWS
    assert line == landed + 1  # every row is good: the header, then one point per line
    assert f"nothing after line {line} landed" in stderr
    assert "re-running the same import is safe" in stderr
    stored = omp("query", TEMP, "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-06T00:00:00Z",
                 "--format", "csv", "--data-dir", str(data))  # fmt: skip
    assert pacsv.read_csv(io.BytesIO(stored.stdout.encode())).num_rows == landed
    rerun = omp("import", str(source), "--data-dir", str(data), "--model", str(EXAMPLE))
    assert rerun.exit_code == 0, rerun.output
    stored = omp("query", TEMP, "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-06T00:00:00Z",
                 "--format", "csv", "--data-dir", str(data))  # fmt: skip
    assert pacsv.read_csv(io.BytesIO(stored.stdout.encode())).num_rows == ROWS

"""``omp run`` as a real process: its read API, the two ways of querying, a clean stop."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow.csv as pacsv
import pytest

from omp.runtime.instance import INSTANCE_FILE
from tests.integration.cli.conftest import EXAMPLE, RANGE, TEMP, omp

START_TIMEOUT_S = 60.0


def _start(data: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable, "-c", "from omp.cli import main; main()",
            "run", str(EXAMPLE), "--data-dir", str(data), "--api-port", "0", "--broker-port", "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def _wait_for_instance(data: Path, process: subprocess.Popen[str]) -> dict[str, object]:
    deadline = time.monotonic() + START_TIMEOUT_S
    announcement = data / INSTANCE_FILE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"omp run exited early: {process.communicate()}")
        if announcement.exists():
            info: dict[str, object] = json.loads(announcement.read_text())
            if info["pid"] == process.pid:
                return info
        time.sleep(0.05)
    raise AssertionError("omp run did not announce itself")


@pytest.fixture
def running(tmp_path: Path, history: Path) -> Iterator[tuple[Path, subprocess.Popen[str], str]]:
    data = tmp_path / "data"
    omp("import", str(history), "--data-dir", str(data), "--model", str(EXAMPLE))
    process = _start(data)
    try:
        info = _wait_for_instance(data, process)
        yield data, process, str(info["api_url"])
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def _csv(result_stdout: str) -> list[dict[str, object]]:
    return pacsv.read_csv(io.BytesIO(result_stdout.encode())).to_pylist()


def test_query_goes_through_the_running_instance_and_matches_direct_reads(
    running: tuple[Path, subprocess.Popen[str], str],
) -> None:
    data, process, url = running
    assert url.startswith("http://127.0.0.1:")
    health = httpx.get(f"{url}/health", timeout=10).json()
    assert health["status"] == "ok"
    through_api = omp("query", TEMP, *RANGE, "--format", "csv", "--data-dir", str(data))
    assert through_api.exit_code == 0, through_api.output
    aggregated = omp(
        "query", "acme/**/spindle_*", *RANGE, "--every", "1m", "--agg", "avg,max",
        "--format", "csv", "--data-dir", str(data),
    )  # fmt: skip
    assert aggregated.exit_code == 0, aggregated.output
    missing = omp("query", "acme/**/nothing_*", *RANGE, "--data-dir", str(data))
    assert missing.exit_code == 1
    assert "'acme/**/nothing_*'" in missing.stderr

    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "stopped" in stderr
    assert not (data / INSTANCE_FILE).exists()

    direct = omp("query", TEMP, *RANGE, "--format", "csv", "--data-dir", str(data))
    assert direct.exit_code == 0, direct.output
    assert _csv(direct.stdout) == _csv(through_api.stdout)
    assert len(_csv(direct.stdout)) == 90
    direct_agg = omp(
        "query", "acme/**/spindle_*", *RANGE, "--every", "1m", "--agg", "avg,max",
        "--format", "csv", "--data-dir", str(data),
    )  # fmt: skip
    assert _csv(direct_agg.stdout) == _csv(aggregated.stdout)


def test_export_through_the_api_pages_everything(
    running: tuple[Path, subprocess.Popen[str], str], tmp_path: Path
) -> None:
    _data, _, url = running
    target = tmp_path / "out.csv"
    result = omp(
        "export", "acme/**", *RANGE, "--format", "csv", "-o", str(target), "--api", url,
        "--data-dir", str(tmp_path / "elsewhere"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert pacsv.read_csv(target).num_rows == 181


def test_a_second_instance_and_an_import_are_refused_while_running(
    running: tuple[Path, subprocess.Popen[str], str], history: Path
) -> None:
    data, process, _ = running
    second = omp("run", str(EXAMPLE), "--data-dir", str(data), "--broker-port", "0")
    assert second.exit_code == 1
    assert f"pid {process.pid}" in second.stderr
    imported = omp("import", str(history), "--data-dir", str(data))
    assert imported.exit_code == 1
    assert "is running on" in imported.stderr


def test_ctrl_c_stops_cleanly(running: tuple[Path, subprocess.Popen[str], str]) -> None:
    data, process, _ = running
    os.kill(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert not (data / INSTANCE_FILE).exists()

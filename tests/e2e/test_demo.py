"""``omp demo`` as a newcomer runs it: one command, every protocol ingested, a clean stop.

The command runs as a real process (the console script), on free ports, with a
short backfill. The test reads what it prints, asks its API, and stops it with
Ctrl-C (SIGINT) as a user would.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

OMP = Path(sys.executable).with_name("omp")
STARTED = "Ctrl-C stops."
START_TIMEOUT = 120.0
INGEST_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
PROTOCOLS = ("opcua", "modbus", "sparkplug", "mqtt")


class Demo:
    """A running ``omp demo`` and everything it printed so far."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def close(self) -> None:
        """After the process ended: take the last lines, close the pipe."""
        self._reader.join(10)
        if self.process.stderr is not None:
            self.process.stderr.close()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, marker: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.text:
            if self.process.poll() is not None:
                pytest.fail(f"omp demo exited with {self.process.returncode}:\n{self.text}")
            if time.monotonic() > deadline:
                pytest.fail(f"omp demo did not print {marker!r} in {timeout} s:\n{self.text}")
            time.sleep(0.2)

    @property
    def api(self) -> str:
        found = re.search(r"API\s+(http://127\.0\.0\.1:\d+)", self.text)
        assert found, self.text
        return found.group(1)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    command = [
        str(OMP),
        "demo",
        "--data-dir",
        str(tmp_path / "demo"),
        "--backfill",
        "30min",
        "--api-port",
        "0",
        "--broker-port",
        "0",
        "--opcua-port",
        "0",
        "--modbus-port",
        "0",
    ]
    env = {**os.environ, "COLUMNS": "200"}  # one log record per line
    process = subprocess.Popen(
        command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env
    )
    running = Demo(process)
    try:
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        running.close()


def health(api: str) -> dict[str, Any]:
    response = httpx.get(f"{api}/health", timeout=10)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def values_by_protocol(body: dict[str, Any]) -> dict[str, int]:
    """Values each protocol's connectors have delivered (connector names are sim_<protocol>...)."""
    totals = dict.fromkeys(PROTOCOLS, 0)
    for name, connector in body["services"]["connectors"].items():
        if name == "running":
            continue
        protocol = name.split("_")[1]
        totals[protocol] += connector["values"]
    return totals


def test_demo_starts_ingests_every_protocol_and_stops_cleanly(demo: Demo, tmp_path: Path) -> None:
    demo.wait_for(STARTED, START_TIMEOUT)
    assert re.search(r"backfilled 30m(in)? of history: [\d,]+ points", demo.text), demo.text
    for what in ("OPC UA", "Modbus TCP", "MQTT", "model", "truth"):
        assert re.search(rf"^\s+{what}\s", demo.text, re.MULTILINE), f"{what} missing:\n{demo.text}"

    deadline = time.monotonic() + INGEST_TIMEOUT
    totals = values_by_protocol(health(demo.api))
    while min(totals.values()) == 0 and time.monotonic() < deadline:
        time.sleep(1)
        totals = values_by_protocol(health(demo.api))
    assert min(totals.values()) > 0, f"a protocol delivered nothing: {totals}"
    body = health(demo.api)
    assert body["services"]["simulator"]["frames"] > 0
    assert body["ingest"]["accepted"] > 20 * 26 * 60  # backfill alone: > a minute of the plant
    # Only the Sparkplug nodes' own Rebirth metrics are unbound; nothing is refused.
    sources = httpx.get(f"{demo.api}/sources", timeout=10).json()
    assert all(s["address"].endswith("Node Control/Rebirth") for s in sources["unmapped"])
    assert sources["rejected"] == []

    # every machine's state is in the historian (backfill, then the live protocols)
    latest = httpx.get(f"{demo.api}/latest", params={"pattern": "acme/**/state"}, timeout=10)
    assert len(latest.json()["rows"]) == 26, latest.text

    started = time.monotonic()
    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(STOP_TIMEOUT) == 0, demo.text
    assert time.monotonic() - started < STOP_TIMEOUT
    demo.close()
    assert demo.lines[-1] == "stopped", demo.text
    assert "Traceback" not in demo.text
    assert " lost" not in demo.text.split("stopping:")[1], "a stop on purpose is not a loss"
    assert "Task was destroyed" not in demo.text

    truth_lines = (tmp_path / "demo" / "demo-truth.jsonl").read_text().splitlines()
    truth = [json.loads(line) for line in truth_lines]
    assert truth[0]["record"] == "run"
    assert {r["record"] for r in truth} >= {"run", "window"}

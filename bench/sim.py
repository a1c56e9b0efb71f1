"""How many machines the simulator sustains in real time (1 Hz, 20 signals each), with its CPU
and memory, alone and together with the platform reading everything it serves.

For each plant size the simulator runs in this process on every protocol (OPC UA server,
Modbus gateways, Sparkplug B edge nodes and MQTT JSON gateways publishing to a private
Mosquitto). Phase 1 measures it alone; phase 2 starts `omp run` on the model that binds it (a
separate process, embedded DuckDB historian, connectors reading all four protocols) and
measures both processes again, plus the values the platform ingests per second.

"Sustained" means fewer than 1 % of ticks late and no tick later than 1 s; a late tick is one
produced after its slot in the schedule (the runner then catches up without sleeping).

    python bench/sim.py --machines 500,1000,2000,3000 --seconds 60
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from omp.core.net import port_free
from omp.runtime.demo import (
    RUNNING_PLANT,
    default_outputs,
    plan_demo,
    sim_start,
    write_demo_model,
)
from omp.sim.engine import Simulation
from omp.sim.plant import build_plant
from omp.sim.runner import SimRunner
from omp.sim.servers.modbus import modbus_lines

from common import Result, report

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_mosquitto(work: Path, port: int) -> subprocess.Popen[bytes]:
    config = work / "mosquitto.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nuser root\n")
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    process = subprocess.Popen([binary, "-c", str(config)], stderr=subprocess.DEVNULL)
    _wait_port(port, "mosquitto")
    return process


def _wait_port(port: int, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{what} did not listen on {port}")


@dataclass
class Usage:
    """CPU seconds and resident memory of one process (this one: pid 0)."""

    pid: int

    def cpu(self) -> float:
        stat = Path(f"/proc/{self.pid or 'self'}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.pid or 'self'}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0


@dataclass
class Window:
    seconds: float
    frames: int
    late: int
    max_lag_s: float
    sim_cpu: float
    sim_rss: float
    platform_cpu: float = 0.0
    platform_rss: float = 0.0
    ingested_per_s: float = 0.0
    connectors: tuple[int, int] = (0, 0)
    """(connected, all) of the platform's connectors when the window started."""

    @property
    def sustained(self) -> bool:
        return self.late <= 0.01 * max(1, self.frames) and self.max_lag_s < 1.0


def measure(
    runner: SimRunner, seconds: float, platform: Usage | None = None, api: str | None = None
) -> Window:
    me = Usage(0)
    stats = runner.stats
    frames0, late0 = stats.frames, stats.late
    stats.max_lag_s = 0.0
    cpu0 = me.cpu()
    pcpu0 = platform.cpu() if platform else 0.0
    accepted0 = _accepted(api) if api else 0
    t0 = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - t0
    window = Window(
        seconds=elapsed,
        frames=stats.frames - frames0,
        late=stats.late - late0,
        max_lag_s=stats.max_lag_s,
        sim_cpu=(me.cpu() - cpu0) / elapsed,
        sim_rss=me.rss_mib(),
    )
    if platform is not None and api is not None:
        window.platform_cpu = (platform.cpu() - pcpu0) / elapsed
        window.platform_rss = platform.rss_mib()
        window.ingested_per_s = (_accepted(api) - accepted0) / elapsed
    return window


def _accepted(api: str) -> int:
    body: dict[str, Any] = httpx.get(f"{api}/health", timeout=30).json()
    return int(body["ingest"]["accepted"])


def start_platform(model: Path, work: Path, mqtt_url: str) -> tuple[subprocess.Popen[bytes], str]:
    api_port = free_port()
    command = [
        str(Path(sys.executable).with_name("omp")),
        "run",
        str(model),
        "--data-dir",
        str(work / "platform"),
        "--api-port",
        str(api_port),
        "--mqtt",
        mqtt_url,
        "--log-level",
        "error",
    ]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    _wait_port(api_port, "omp run", timeout=120)
    return process, f"http://127.0.0.1:{api_port}"


def wait_connected(api: str, timeout: float = 300.0) -> tuple[int, int]:
    """Until every connector says connected, or ``timeout``: (connected, all) connectors.

    The subscriptions of a big plant's OPC UA server take minutes on two busy cores; the
    window is measured either way and says how many connectors were reading.
    """
    deadline = time.monotonic() + timeout
    while True:
        connectors = httpx.get(f"{api}/health", timeout=30).json()["services"]["connectors"]
        states = [c["state"] for n, c in connectors.items() if n != "running"]
        connected = sum(1 for s in states if s == "connected")
        if (states and connected == len(states)) or time.monotonic() > deadline:
            return connected, len(states)
        time.sleep(2)


def ports_below_ephemeral(start: int, count: int) -> int:
    """The first run of ``count`` free ports from ``start`` on, below Linux's ephemeral range.

    A port the kernel handed out as "free" (bind to 0) lies in the ephemeral range, where the
    platform's own outgoing connections may take it before the simulator binds it.
    """
    port = start
    while port + count < 32768:
        if all(port_free("127.0.0.1", port + k) for k in range(count)):
            return port
        port += count
    raise SystemExit(f"no {count} free ports between {start} and 32768")


def run_size(machines: int, seconds: float, work: Path, mqtt_port: int) -> dict[str, Any]:
    gateways = len(modbus_lines(build_plant(machines)))
    plan = plan_demo(
        machines=machines,
        seed=1,
        opcua_port=ports_below_ephemeral(20000, 1),
        modbus_port=ports_below_ephemeral(21000, gateways),
        mqtt_url=f"mqtt://127.0.0.1:{mqtt_port}",
    )
    plant = plan.plant
    start = sim_start(0)
    simulation = Simulation(plant, seed=1, start=start, tuning=RUNNING_PLANT)
    runner = SimRunner(simulation, default_outputs(plant, plan.endpoints))
    started = time.monotonic()
    runner.start()
    start_s = time.monotonic() - started
    print(f"{len(plant.machines)} machines: servers up in {start_s:.1f} s")
    platform: subprocess.Popen[bytes] | None = None
    try:
        time.sleep(5)  # let the first frames settle
        alone = measure(runner, seconds)
        print(f"  alone: {alone}")
        model = write_demo_model(plan, work / f"plant-{machines}.yaml")
        platform, api = start_platform(model, work, plan.endpoints.mqtt_url)
        connected = wait_connected(api)
        time.sleep(10)
        together = measure(runner, seconds, Usage(platform.pid), api)
        together.connectors = connected
        print(f"  with the platform: {together}")
    finally:
        if platform is not None:
            platform.terminate()
            platform.wait(120)
        runner.stop()
        shutil.rmtree(work / "platform", ignore_errors=True)
    return {
        "machines": len(plant.machines),
        "values_per_s": len(plant.machines) * 20,
        "start_s": start_s,
        "alone": alone,
        "together": together,
    }


def main() -> None:
    for library in ("asyncua", "pymodbus", "gmqtt"):  # as `omp sim` does below debug level
        logging.getLogger(library).setLevel(logging.CRITICAL)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--machines", default="500,1000,2000,3000")
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="omp-bench-sim-"))
    port = free_port()
    broker = start_mosquitto(work, port)
    results: list[Result] = []
    try:
        for machines in (int(m) for m in args.machines.split(",")):
            size = run_size(machines, args.seconds, work, port)
            alone, together = size["alone"], size["together"]
            for label, window in (("alone", alone), ("with the platform", together)):
                notes: dict[str, object] = {
                    "machines": size["machines"],
                    "late_ticks": window.late,
                    "frames": window.frames,
                    "max_lag_s": round(window.max_lag_s, 3),
                    "sustained": window.sustained,
                    "sim_cpu_cores": round(window.sim_cpu, 2),
                    "sim_rss_mib": round(window.sim_rss),
                    "servers_start_s": round(size["start_s"], 1),
                }
                if label != "alone":
                    notes |= {
                        "platform_cpu_cores": round(window.platform_cpu, 2),
                        "platform_rss_mib": round(window.platform_rss),
                        "platform_ingested_per_s": round(window.ingested_per_s),
                        "connectors_connected": "{}/{}".format(*window.connectors),
                    }
                results.append(
                    Result(
                        f"simulator, {size['machines']} machines x 20 signals at 1 Hz, {label}",
                        size["values_per_s"],
                        "values/s",
                        notes=notes,
                    )
                )
    finally:
        broker.terminate()
        broker.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    report("sim", results)


if __name__ == "__main__":
    main()

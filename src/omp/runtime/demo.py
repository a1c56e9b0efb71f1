"""``omp demo`` and ``omp sim``: the simulated plant wired to the platform, or alone.

``DemoPlan`` decides everything before anything starts: the plant, free
ports for its OPC UA and Modbus servers, the broker URL, and the demo model
that binds them. ``assemble_demo`` then plugs the pieces into a ``Platform``
in start order:

1. ``Backfill`` runs the simulation fast from ``now - backfill`` to now and
   writes the frames as history (``omp.sim.history``), so charts and KPIs
   have data on first start;
2. the embedded broker;
3. connectors, UNS, model watcher (``attach_connectors``);
4. the simulator's servers and publishers, ticking in real time from where
   the backfill stopped (``SimRunner``).

The ground truth of the whole run (backfill and live) is written next to
the historian, for tests and for checking KPIs by hand.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from omp.connectors.broker import EmbeddedBroker
from omp.core.errors import ConfigError
from omp.core.net import any_free_port, is_loopback, port_free
from omp.core.time import US_PER_SECOND, Micros, floor_to, system_clock
from omp.runtime.connectors import DEFAULT_BROKER_PORT, attach_connectors, check_options
from omp.runtime.platform import Platform
from omp.runtime.settings import Settings
from omp.sim.engine import Simulation
from omp.sim.frame import FrameOutput
from omp.sim.history import HistoryWriter
from omp.sim.model import demo_model
from omp.sim.plant import Plant, build_plant
from omp.sim.runner import SimRunner
from omp.sim.servers.base import Endpoints, ServedSection
from omp.sim.servers.modbus import modbus_lines
from omp.sim.truth import TruthRecorder
from omp.sim.tuning import Tuning

log = logging.getLogger(__name__)

DEFAULT_OPCUA_PORT = 4840
DEFAULT_MODBUS_PORT = 5020


def free_range(host: str, first: int | None, count: int) -> int:
    """``first`` when ``first`` .. ``first + count - 1`` are free, else another free run's start
    (any free run when ``first`` is None)."""
    if first is not None and all(port_free(host, first + k) for k in range(count)):
        return first
    for _ in range(50):
        start = any_free_port(host)
        if start + count < 65536 and all(port_free(host, start + k) for k in range(count)):
            return start
    raise OSError(f"no run of {count} free ports on {host} for the simulated Modbus gateways")


@dataclass(frozen=True, slots=True)
class DemoPlan:
    plant: Plant
    endpoints: Endpoints
    seed: int
    notes: tuple[str, ...]
    """What was chosen differently from the defaults (a port taken), for the banner."""


def plan_demo(
    *,
    machines: int,
    seed: int,
    host: str = "127.0.0.1",
    broker_port: int | None = None,
    opcua_port: int | None = None,
    modbus_port: int | None = None,
    mqtt_url: str | None = None,
) -> DemoPlan:
    """The plant and where it listens: defaults when free, other free ports (noted) when not.

    Ports given are used as given (0: any free port). ``mqtt_url`` names an
    external broker (``omp sim``); without it the demo's own broker listens on
    ``broker_port``, 1883 when free.
    """
    if not is_loopback(host):
        log.warning("the simulator listens on %s: its servers have no security", host)
    plant = build_plant(machines)
    notes: list[str] = []

    def choose(asked: int | None, default: int, what: str) -> int:
        if asked is not None:
            return asked if asked != 0 else any_free_port(host)
        if port_free(host, default):
            return default
        port = any_free_port(host)
        notes.append(f"{what} port {default} is taken: using {port}")
        return port

    if mqtt_url is None:
        mqtt_url = f"mqtt://{host}:{choose(broker_port, DEFAULT_BROKER_PORT, 'MQTT')}"
    opcua = choose(opcua_port, DEFAULT_OPCUA_PORT, "OPC UA")
    gateways = len(modbus_lines(plant))
    if modbus_port is not None and modbus_port != 0:
        modbus = modbus_port
    else:
        modbus = free_range(host, DEFAULT_MODBUS_PORT if modbus_port is None else None, gateways)
        if modbus != DEFAULT_MODBUS_PORT and modbus_port is None:
            notes.append(f"Modbus ports {DEFAULT_MODBUS_PORT}+ are taken: using {modbus}+")
    endpoints = Endpoints(host=host, opcua_port=opcua, modbus_port=modbus, mqtt_url=mqtt_url)
    return DemoPlan(plant, endpoints, seed, tuple(notes))


REPORT_EVERY = 5.0
"""Seconds between backfill progress lines."""


class Backfill:
    """A platform service whose start runs the simulation from the past up to now.

    ``step`` advances the simulation one tick and returns its frame;
    ``write`` takes the frame (the history writer) and ``flush`` hands the
    rest over. Progress goes to ``report`` every ``REPORT_EVERY`` seconds. ``cancel``
    (from a signal handler) ends it early; what was written stays.
    """

    name = "backfill"

    def __init__(
        self,
        *,
        now: Callable[[], Micros],
        sim_now: Callable[[], Micros],
        tick: Micros,
        step: Callable[[], Any],
        write: Callable[[Any], None],
        flush: Callable[[], None],
        report: Callable[[str], None],
    ) -> None:
        self._now = now
        self._sim_now = sim_now
        self._tick = tick
        self._step = step
        self._write = write
        self._flush = flush
        self._report = report
        self._cancel = threading.Event()
        self.frames = 0
        self.seconds = 0.0

    def cancel(self) -> None:
        self._cancel.set()

    def start(self) -> None:
        started = time.monotonic()
        first = self._sim_now()
        last_report = started
        # The wall clock moves while we write: re-read it until the simulation has caught up.
        while not self._cancel.is_set() and self._sim_now() + self._tick <= self._now():
            self._write(self._step())
            self.frames += 1
            if time.monotonic() - last_report >= REPORT_EVERY:
                last_report = time.monotonic()
                done = self._sim_now() - first
                total = max(1, self._now() - first)
                self._report(f"backfilling history: {100 * done / total:.0f} %")
        self._flush()
        self.seconds = time.monotonic() - started

    def stop(self) -> None:
        self._cancel.set()

    def health(self) -> dict[str, Any]:
        return {"frames": self.frames, "seconds": round(self.seconds, 1)}


def default_outputs(
    plant: Plant, endpoints: Endpoints, *, primary_host: str | None = None
) -> Sequence[FrameOutput]:
    """Every protocol server and publisher of the simulator, in start order.

    With ``primary_host`` the Sparkplug edge nodes birth only while that host
    application's STATE says online (Sparkplug 3.0), as plants with one SCADA do.
    """
    from omp.sim.servers.modbus import ModbusGateways
    from omp.sim.servers.mqtt_json import MqttJsonPublishers
    from omp.sim.servers.opcua import OpcUaServer
    from omp.sim.servers.sparkplug import SparkplugEdges

    return [
        OpcUaServer(plant, endpoints),
        ModbusGateways(plant, endpoints),
        SparkplugEdges(plant, endpoints, primary_host=primary_host),
        MqttJsonPublishers(plant, endpoints),
    ]


def sim_start(
    backfill: Micros, tick: Micros = US_PER_SECOND, clock: Callable[[], Micros] = system_clock
) -> Micros:
    """Where the simulation starts: ``backfill`` before now, on a whole tick."""
    return floor_to(clock() - backfill, tick)


def truth_file(data_dir: Path) -> Path:
    return data_dir / "demo-truth.jsonl"


TRUTH_WINDOW = 3600 * US_PER_SECOND
"""Ground-truth windows: an hour, the usual grain of a KPI report."""
RUNNING_PLANT = Tuning(first_changeover=False)
"""The demo and ``omp sim`` join a plant that is already running (mid-order, producing)
rather than one whose lines all change over at once."""
SPARKPLUG_HOST = "omp"
"""The host id the demo model gives its Sparkplug connector (``sparkplug.HOST_ID``)."""
DEMO_MARKER = ".omp-demo"
"""The file that says a data directory belongs to ``omp demo`` (which recreates it each start)."""


def demo_sections(plant: Plant, endpoints: Endpoints) -> list[ServedSection]:
    """What every protocol module contributes to the demo model."""
    from omp.sim.servers import modbus, mqtt_json, opcua, sparkplug

    return [
        opcua.model_section(plant, endpoints),
        modbus.model_section(plant, endpoints),
        sparkplug.model_section(plant, endpoints),
        mqtt_json.model_section(plant, endpoints),
    ]


def write_demo_model(plan: DemoPlan, path: Path) -> Path:
    """Write the model that binds ``plan``'s plant where its servers listen."""
    path.write_text(demo_model(plan.plant, demo_sections(plan.plant, plan.endpoints)))
    return path


def prepare_demo_dir(data_dir: Path) -> None:
    """Empty the demo's data directory (a new plant every start), or refuse a foreign one.

    A directory ``omp demo`` did not create (no marker) is never touched: it
    may hold someone's historian.
    """
    if data_dir.exists() and any(data_dir.iterdir()):
        if not (data_dir / DEMO_MARKER).exists():
            raise ConfigError(
                f"{data_dir} is not empty and was not made by omp demo: "
                "choose another --data-dir (omp demo starts a new plant there each time)"
            )
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / DEMO_MARKER).write_text("omp demo data: recreated on every start\n")


class _Simulator:
    """The live simulation as a platform service: stopping it writes the truth's last window."""

    name = "simulator"

    def __init__(self, runner: SimRunner, simulation: Simulation) -> None:
        self._runner = runner
        self._simulation = simulation

    def start(self) -> None:
        self._runner.start()

    def stop(self) -> None:
        self._runner.stop()
        self._simulation.close()

    def health(self) -> dict[str, Any]:
        return self._runner.health()


@dataclass(slots=True)
class DemoRun:
    """The assembled demo: starting ``platform`` backfills, then starts everything else."""

    plan: DemoPlan
    platform: Platform
    model_file: Path
    truth_file: Path
    simulation: Simulation
    backfill: Backfill
    history: HistoryWriter

    def cancel(self) -> None:
        """End a running backfill early (Ctrl-C while starting)."""
        self.backfill.cancel()

    @property
    def history_points(self) -> int:
        return self.history.points

    @property
    def history_events(self) -> int:
        return self.history.events

    @property
    def backfill_seconds(self) -> float:
        return self.backfill.seconds


def assemble_demo(
    plan: DemoPlan,
    settings: Settings,
    *,
    backfill: Micros,
    history_sample: Micros,
    speed: float,
    report: Callable[[str], None],
    clock: Callable[[], Micros] = system_clock,
    outputs: Sequence[FrameOutput] | None = None,
) -> DemoRun:
    """The platform on the demo model with its services plugged in, in start order:
    backfill, broker, simulator, then connectors (so they find their servers up, and
    stop before them).

    ``settings.mqtt_url`` must be the plan's broker URL: the demo runs that
    broker itself (the embedded one). ``outputs`` replaces the protocol servers.
    """
    prepare_demo_dir(settings.data_dir)
    model_file = write_demo_model(plan, settings.data_dir / "demo.yaml")
    truth_path = truth_file(settings.data_dir)
    platform = Platform.open(settings, model_file=model_file, check_options=check_options)
    try:
        tick = US_PER_SECOND
        truth = TruthRecorder(plan.plant, TRUTH_WINDOW, path=truth_path)
        start = sim_start(backfill, tick, clock)
        simulation = Simulation(
            plan.plant, seed=plan.seed, start=start, tick=tick, truth=truth, tuning=RUNNING_PLANT
        )
        history = HistoryWriter(
            plan.plant, platform.registry.ids, platform.ingest, sample=history_sample
        )
        filler = Backfill(
            now=clock,
            sim_now=lambda: simulation.now,
            tick=tick,
            step=simulation.step,
            write=history.add,
            flush=history.flush,
            report=report,
        )
        platform.add_service(filler)
        broker = urlsplit(plan.endpoints.mqtt_url)
        platform.add_service(EmbeddedBroker(broker.hostname or "127.0.0.1", broker.port or 1883))
        if outputs is None:
            outputs = default_outputs(plan.plant, plan.endpoints, primary_host=SPARKPLUG_HOST)
        platform.add_service(_Simulator(SimRunner(simulation, outputs, speed=speed), simulation))
        attach_connectors(platform)
    except BaseException:
        platform.stop()
        raise
    return DemoRun(plan, platform, model_file, truth_path, simulation, filler, history)


def run_simulator(
    plan: DemoPlan,
    *,
    speed: float,
    model_file: Path | None,
    model_only: bool,
    truth_file: Path | None,
    stop: threading.Event,
    run_for: Micros | None,
    clock: Callable[[], Micros],
    report: Callable[[str], None],
    banner: Callable[[], str],
    outputs: Sequence[FrameOutput] | None = None,
) -> None:
    """``omp sim``: the plant on its servers until ``stop`` is set or ``run_for`` has passed."""
    if model_file is not None:
        write_demo_model(plan, model_file)
        report(f"wrote the model that binds the simulator to {model_file}")
    if model_only:
        return
    if speed > 1:
        report(
            f"simulated time runs {speed:g}x faster than the clock: a platform refuses "
            "timestamps in the future, so it will start refusing this simulator's values"
        )
    tick = US_PER_SECOND
    truth = TruthRecorder(plan.plant, TRUTH_WINDOW, path=truth_file) if truth_file else None
    simulation = Simulation(
        plan.plant,
        seed=plan.seed,
        start=sim_start(0, tick, clock),
        tick=tick,
        truth=truth,
        tuning=RUNNING_PLANT,
    )
    chosen = default_outputs(plan.plant, plan.endpoints) if outputs is None else outputs
    runner = SimRunner(simulation, chosen, speed=speed)
    runner.start()
    try:
        report(banner())
        deadline = None if run_for is None else time.monotonic() + run_for / US_PER_SECOND
        while not stop.wait(timeout=1.0):
            if deadline is not None and time.monotonic() >= deadline:
                break
    finally:
        runner.stop()
        simulation.close()
    late = runner.stats.late
    report(f"stopped after {runner.stats.frames:,} ticks ({late:,} late)")

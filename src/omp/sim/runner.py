"""``SimRunner``: the simulation in (scaled) real time, fanned out to its outputs.

The runner owns one thread with one asyncio loop. Every tick it asks the
simulation for the next frame and hands it to each output (protocol servers,
the ground-truth recorder) in order. Frames are produced on a schedule
anchored to the wall clock at start, so the simulation does not drift: when a
tick takes longer than its slot the runner catches up without sleeping and
counts the tick as late.

An output that raises is logged once per distinct error, counted, and keeps
receiving frames: one broken server never stops the plant.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from omp.core.time import US_PER_SECOND, Micros
from omp.sim.frame import Frame, FrameOutput

log = logging.getLogger(__name__)

START_TIMEOUT = 180.0
"""Seconds the outputs get to start (servers bind, publishers connect): the OPC UA server
of a 3,000-machine plant adds about 75,000 nodes, which takes 30 s or more."""


class Stepper(Protocol):
    """What the runner drives: ``omp.sim.engine.Simulation``."""

    @property
    def now(self) -> Micros: ...

    @property
    def tick(self) -> Micros: ...

    def step(self) -> Frame: ...


@dataclass(slots=True)
class RunnerStats:
    frames: int = 0
    late: int = 0
    """Ticks produced after their slot (the machine could not keep up)."""
    max_lag_s: float = 0.0
    step_seconds: float = 0.0
    """Total time spent producing frames (the engine's share of the work)."""
    publish_seconds: float = 0.0
    output_errors: dict[str, int] = field(default_factory=dict)


class SimRunner:
    """Runs ``simulation`` at ``speed`` x real time until stopped; a platform service."""

    name = "simulator"

    def __init__(
        self,
        simulation: Stepper,
        outputs: Sequence[FrameOutput],
        *,
        speed: float = 1.0,
        on_frame: Callable[[Frame], None] | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"simulation speed must be positive, got {speed}")
        self._simulation = simulation
        self._outputs = list(outputs)
        self._speed = speed
        self._on_frame = on_frame
        self.stats = RunnerStats()
        self._errors_seen: set[tuple[str, str]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self._started = threading.Event()
        self._start_error: BaseException | None = None

    # -- service ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the outputs and the clock; raises what an output raised while starting."""
        self._thread = threading.Thread(target=self._main, name="omp-simulator", daemon=True)
        self._thread.start()
        self._started.wait()
        if self._start_error is not None:
            self._thread.join()
            raise self._start_error

    def stop(self) -> None:
        """Stop producing frames, then stop every output (servers close their ports)."""
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended on its own
                loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join()

    def health(self) -> dict[str, Any]:
        stats = self.stats
        return {
            "frames": stats.frames,
            "late_ticks": stats.late,
            "max_lag_s": round(stats.max_lag_s, 3),
            "speed": self._speed,
            "simulated_time_us": self._simulation.now,
            "outputs": [o.name for o in self._outputs],
            "output_errors": dict(stats.output_errors),
        }

    # -- the loop -----------------------------------------------------------------------

    def _main(self) -> None:
        # asyncio.run also cancels what the outputs' libraries leave running (asyncua's
        # session and subscription loops) before it closes the loop.
        try:
            asyncio.run(self._run())
        finally:
            self._started.set()  # a crash before start must not leave start() waiting

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        try:
            # One after the other: a big OPC UA address space keeps the loop busy while it is
            # built, and publishers starting beside it would time out waiting for their broker.
            await asyncio.wait_for(self._start_outputs(), START_TIMEOUT)
        except BaseException as exc:
            self._start_error = exc
            await self._stop_outputs()
            self._started.set()
            return
        # The servers' address spaces are large and live as long as the run: keep them out of
        # the collector's full passes, which otherwise stall a big plant's ticks for a second.
        gc.collect()
        gc.freeze()
        self._started.set()
        try:
            await self._tick_forever(self._stopping)
        finally:
            await self._stop_outputs()
            gc.unfreeze()  # what the outputs held may now be collected

    async def _tick_forever(self, stopping: asyncio.Event) -> None:
        simulation = self._simulation
        slot_s = simulation.tick / US_PER_SECOND / self._speed
        anchor = time.monotonic()
        number = 0
        while not stopping.is_set():
            number += 1
            due = anchor + number * slot_s
            delay = due - time.monotonic()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), delay)
                if stopping.is_set():
                    return
            else:
                self.stats.late += 1
                self.stats.max_lag_s = max(self.stats.max_lag_s, -delay)
                await asyncio.sleep(0)  # let the servers answer their clients
            self._one_tick()

    def _one_tick(self) -> None:
        started = time.perf_counter()
        frame = self._simulation.step()
        stepped = time.perf_counter()
        for output in self._outputs:
            try:
                output.publish(frame)
            except Exception as exc:
                self._output_failed(output.name, exc)
        if self._on_frame is not None:
            self._on_frame(frame)
        stats = self.stats
        stats.frames += 1
        stats.step_seconds += stepped - started
        stats.publish_seconds += time.perf_counter() - stepped

    def _output_failed(self, name: str, exc: Exception) -> None:
        errors = self.stats.output_errors
        errors[name] = errors.get(name, 0) + 1
        key = (name, str(exc))
        if key not in self._errors_seen and len(self._errors_seen) < 1000:
            self._errors_seen.add(key)
            log.error("simulator output %s failed: %s (it keeps receiving frames)", name, exc)

    async def _start_outputs(self) -> None:
        for output in self._outputs:
            await output.start()

    async def _stop_outputs(self) -> None:
        for output in reversed(self._outputs):
            try:
                await asyncio.wait_for(output.stop(), 10.0)
            except Exception as exc:  # stopping the rest matters more
                log.warning("simulator output %s did not stop cleanly: %s", output.name, exc)

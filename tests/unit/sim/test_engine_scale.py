"""Scale: a 3,000-machine plant steps well inside a second (generous bound: shared CPUs)."""

from __future__ import annotations

import statistics
import time

from omp.core.time import US_PER_MINUTE, US_PER_SECOND
from omp.sim.engine import Simulation
from omp.sim.plant import build_plant
from omp.sim.tuning import Tuning
from tests.unit.sim.engine_support import MONDAY_NOON


def test_three_thousand_machines_step_in_real_time() -> None:
    plant = build_plant(3000)
    assert len(plant.machines) >= 3000
    # Lines start mid-order, so the timed ticks are mostly producing machines.
    tuning = Tuning(first_changeover=False)
    warm = Simulation(plant, seed=1, start=MONDAY_NOON, tick=US_PER_SECOND, tuning=tuning)
    for _ in warm.frames(MONDAY_NOON + 20 * US_PER_SECOND):
        pass
    timings = []
    for _ in range(40):
        began = time.perf_counter()
        frame = warm.step()
        timings.append(time.perf_counter() - began)
    assert len(frame.values) == len(plant.machines)
    producing = sum(1 for row in frame.values if row[0] == 1)
    assert producing > len(plant.machines) // 2
    assert statistics.median(timings) < 0.5


def test_a_simulated_hour_of_the_demo_plant_runs_in_seconds() -> None:
    sim = Simulation(build_plant(), seed=1, start=MONDAY_NOON)
    began = time.perf_counter()
    frames = sum(1 for _ in sim.frames(MONDAY_NOON + 60 * US_PER_MINUTE))
    elapsed = time.perf_counter() - began
    assert frames == 3600
    assert elapsed < 10.0  # about 0.6 s here; a day takes about 14 s

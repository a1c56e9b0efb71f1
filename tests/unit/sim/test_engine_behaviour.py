"""Behaviour analytics must find: wear that ends in a breakdown, quality shifts and trends."""

from __future__ import annotations

import itertools
import math
import statistics

from omp.core.events import EventKind
from omp.core.time import US_PER_HOUR
from omp.sim.engine import Simulation
from omp.sim.plant import build_plant
from omp.sim.truth import TruthRecorder
from omp.sim.tuning import Tuning
from tests.unit.sim.engine_support import MONDAY_NOON, around_the_clock, run


def test_wear_raises_the_degrading_signal_and_ends_in_a_breakdown() -> None:
    plant = build_plant()
    tuning = Tuning(
        random_breakdowns=False,
        initial_wear=(0.0, 0.0),
        wear_life_hours=(1.0, 1.5),
        quality_episode_hours=math.inf,
        order_hours=(50.0, 60.0),
    )
    recorder = TruthRecorder(plant, US_PER_HOUR)
    sim = Simulation(
        plant,
        seed=6,
        start=MONDAY_NOON,
        tuning=tuning,
        calendars=around_the_clock(plant),
        truth=recorder,
    )
    frames = run(sim, MONDAY_NOON + 3 * US_PER_HOUR)
    press = plant.machines[0]
    asset = f"acme/{press.path}"
    column = press.kind.signal_names.index(press.kind.degrading)
    noise = press.kind.signal(press.kind.degrading).noise
    down = next(
        e
        for f in frames
        for e in f.events
        if e.asset == asset and e.kind is EventKind.STATE_CHANGE and e.state == "down"
    )
    assert down.reason == "vibration_wear"
    producing = [
        f.values[press.index][column]
        for f in frames
        if f.ts <= down.ts and f.values[press.index][0] == 1
    ]
    early, late = producing[60:660], producing[-600:]
    assert statistics.fmean(late) > statistics.fmean(early) + 10 * noise
    wear = [e for e in recorder.truth.episodes if e.kind == "wear" and e.machine == asset]
    assert wear[0].end == down.ts
    assert wear[0].reason == "vibration_wear"
    worn_out = {e.machine for e in recorder.truth.episodes if e.kind == "wear"}
    assert len(worn_out) >= len(plant.machines) // 2  # every busy machine wears out


def test_quality_episodes_show_in_the_measurements() -> None:
    plant = build_plant()
    tuning = Tuning(
        random_breakdowns=False,
        initial_wear=(0.0, 0.0),
        quality_episode_hours=0.5,
        quality_episode_length_hours=(1.0, 1.0),
        order_hours=(50.0, 60.0),
    )
    recorder = TruthRecorder(plant, US_PER_HOUR)
    sim = Simulation(
        plant,
        seed=9,
        start=MONDAY_NOON,
        tuning=tuning,
        calendars=around_the_clock(plant),
        truth=recorder,
    )
    frames = run(sim, MONDAY_NOON + 3 * US_PER_HOUR)
    checked = {"shift": 0, "trend": 0}
    for filler in (m for m in plant.machines if m.kind.name == "filler"):
        low, target, high = filler.kind.quality_spec
        sigma = (high - low) / (6 * tuning.quality_cpk)
        column = filler.kind.signal_names.index(filler.kind.quality)
        parts = [  # (tick end, measurement of the last part), only where a part was made
            (b.ts, b.values[filler.index][column])
            for a, b in itertools.pairwise(frames)
            if a.values[filler.index][1:3] != b.values[filler.index][1:3]
        ]
        episodes = [e for e in recorder.truth.episodes if e.machine == f"acme/{filler.path}"]
        assert episodes
        for episode in episodes:
            inside = [v for ts, v in parts if episode.start < ts <= episode.end]
            if len(inside) < 2000:
                continue
            assert episode.magnitude is not None
            if episode.kind == "shift":
                offset = statistics.fmean(inside) - target
                assert abs(offset - episode.magnitude) < 0.2 * sigma
            else:
                half = len(inside) // 2
                first = statistics.fmean(inside[:half]) - target
                second = statistics.fmean(inside[half:]) - target
                assert abs(second) > abs(first) + 0.5 * sigma
                assert math.copysign(1, second) == math.copysign(1, episode.magnitude)
            checked[episode.kind] += 1
        before = [v for ts, v in parts if ts <= min(e.start for e in episodes)]
        if len(before) > 2000:
            assert abs(statistics.fmean(before) - target) < 0.2 * sigma
            assert 0.9 < statistics.stdev(before) / sigma < 1.1
    assert checked["shift"] >= 1
    assert checked["trend"] >= 1

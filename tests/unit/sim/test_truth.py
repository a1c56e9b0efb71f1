"""Ground truth: its totals equal what the frames and events show, and its file round-trips."""

from __future__ import annotations

import itertools
from collections import defaultdict
from pathlib import Path

import pytest

from omp.core.events import EventKind
from omp.core.time import US_PER_HOUR, US_PER_MINUTE, US_PER_SECOND, Micros
from omp.sim.engine import Simulation
from omp.sim.frame import Frame
from omp.sim.plant import build_plant
from omp.sim.truth import Truth, TruthRecorder, read_truth
from omp.sim.tuning import Tuning
from tests.unit.sim.engine_support import MONDAY_NOON, replay, run

HOURS = 4.5
"""Monday 12:00-16:30 UTC: a Munich shift change and break, Austin's day shift."""
Recorded = tuple[Truth, list[Frame]]
RESETS = Tuning(counter_reset_days=1 / 24)
"""Counters reset about hourly, so a run of hours sees several resets."""


def _run(path: Path | None = None, *, seed: int = 11) -> Recorded:
    plant = build_plant()
    recorder = TruthRecorder(plant, 15 * US_PER_MINUTE, path=path)
    sim = Simulation(plant, seed=seed, start=MONDAY_NOON, tuning=RESETS, truth=recorder)
    frames = run(sim, MONDAY_NOON + round(HOURS * US_PER_HOUR))
    return (read_truth(path) if path else recorder.truth), frames


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return _run()


def _micros(seconds: float) -> Micros:
    return round(seconds * US_PER_SECOND)


def test_state_time_in_the_truth_equals_the_state_change_events(recorded: Recorded) -> None:
    truth, frames = recorded
    plant = build_plant()
    seen = replay(plant, frames)
    from_truth: dict[tuple[str, str], int] = defaultdict(int)
    by_reason: dict[tuple[str, str, str], int] = defaultdict(int)
    for window in truth.windows:
        assert sum(_micros(s) for s in window.seconds.values()) == window.end - window.start
        for state, seconds in window.seconds.items():
            from_truth[(window.machine, state)] += _micros(seconds)
        for state, reasons in window.reasons.items():
            for reason, seconds in reasons.items():
                by_reason[(window.machine, state, reason)] += _micros(seconds)
    assert dict(from_truth) == dict(seen.seconds)
    assert dict(by_reason) == dict(seen.reason_seconds)
    states = {state for _, state in from_truth}
    assert {"producing", "starved", "planned_stop", "changeover", "down"} <= states
    assert len(truth.windows) == len(plant.machines) * HOURS * 4


def test_parts_in_the_truth_equal_counter_increments_despite_resets(recorded: Recorded) -> None:
    truth, frames = recorded
    plant = build_plant()
    seen = replay(plant, frames)
    resets = 0
    for previous, frame in itertools.pairwise(frames):
        resets += sum(1 for a, b in zip(previous.values, frame.values, strict=True) if b[1] < a[1])
    assert resets >= 10  # counters really were reset during the run
    for machine in plant.machines:
        asset = f"acme/{machine.path}"
        windows = [w for w in truth.windows if w.machine == asset]
        # The first frame's counters are the baseline; parts of the first tick are not seen.
        first_tick_parts = 0 if machine.kind.ideal_cycle_s > 1 else 2
        good = sum(w.good for w in windows)
        assert good - first_tick_parts <= seen.good[machine.index] <= good
        assert seen.scrap[machine.index] <= sum(w.scrap for w in windows)
        for window in windows:
            assert sum(g for g, _ in window.orders.values()) == window.good
            assert sum(s for _, s in window.orders.values()) == window.scrap


def test_orders_in_the_truth_are_the_order_events(recorded: Recorded) -> None:
    truth, frames = recorded
    events = {
        (e.name, e.asset, e.ts, e.end_ts)
        for f in frames
        for e in f.events
        if e.kind is EventKind.ORDER and e.end_ts is not None
    }
    completed = {(o.id, o.line, o.start, o.end) for o in truth.orders if o.end is not None}
    assert completed == events
    assert len(completed) >= 2
    running = [o for o in truth.orders if o.end is None]
    assert len({o.line for o in running}) == len(running)  # one running order per line at most


def test_the_truth_file_round_trips(tmp_path: Path, recorded: Recorded) -> None:
    in_memory, _ = recorded
    path = tmp_path / "truth.jsonl"
    from_file, _ = _run(path)
    assert from_file.windows == in_memory.windows
    assert from_file.orders == in_memory.orders
    assert from_file.episodes == in_memory.episodes
    assert from_file.run["window_s"] == 900.0
    assert path.read_bytes().count(b"\n") > len(in_memory.windows)


def test_a_counter_wraps_and_the_truth_still_counts_every_part() -> None:
    plant = build_plant()
    tuning = Tuning(counter_wrap=1000, counter_reset_days=float("inf"))
    recorder = TruthRecorder(plant, US_PER_HOUR)
    sim = Simulation(plant, seed=4, start=MONDAY_NOON, tuning=tuning, truth=recorder)
    frames = run(sim, MONDAY_NOON + US_PER_HOUR)
    seen = replay(plant, frames, wrap=1000)
    filler = next(m for m in plant.machines if m.kind.name == "filler")
    truth_good = sum(w.good for w in recorder.truth.windows if w.machine == f"acme/{filler.path}")
    assert truth_good > 2000  # it went round the 1000 wrap more than once
    assert truth_good - 2 <= seen.good[filler.index] <= truth_good
    values = [f.values[filler.index][1] for f in frames]
    assert max(v for v in values if isinstance(v, int)) < 1000


def test_windows_must_hold_whole_ticks() -> None:
    plant = build_plant()
    recorder = TruthRecorder(plant, 90 * US_PER_SECOND)
    with pytest.raises(ValueError, match="whole ticks"):
        Simulation(plant, seed=1, start=MONDAY_NOON, tick=60 * US_PER_SECOND, truth=recorder)

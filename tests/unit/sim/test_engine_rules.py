"""State machine rules: flow between machines, changeovers, the shift calendar."""

from __future__ import annotations

import math

from omp.core.events import EventKind
from omp.core.time import US_PER_HOUR, US_PER_MINUTE, US_PER_SECOND, parse_rfc3339
from omp.sim.engine import Simulation
from omp.sim.plant import build_plant
from omp.sim.tuning import Tuning
from tests.unit.sim.engine_support import MONDAY_NOON, around_the_clock, states

QUIET = Tuning(
    random_breakdowns=False,
    initial_wear=(0.0, 0.0),
    quality_episode_hours=math.inf,
    order_hours=(50.0, 60.0),
)
"""No random breakdowns, no wear breakdown, one long order: only what a test forces."""


def test_a_breakdown_starves_downstream_and_blocks_upstream() -> None:
    plant = build_plant()
    line = next(x for x in plant.lines if x.kind == "welding" and x.site == "munich")
    first, broken, third, fourth = (m.index for m in line.machines)
    sim = Simulation(
        plant, seed=3, start=MONDAY_NOON, tuning=QUIET, calendars=around_the_clock(plant)
    )
    frames = list(sim.frames(MONDAY_NOON + US_PER_HOUR))
    assert states(frames[-60:], broken) == [(f.ts, "producing") for f in frames[-60:]]
    sim.force_breakdown(broken, reason="forced", duration=US_PER_HOUR)
    outage = list(sim.frames(MONDAY_NOON + 2 * US_PER_HOUR))
    settled = outage[20 * 60 :]  # 20 minutes on: 10 parts fill the buffer at 45 s each
    assert {s for _, s in states(outage, broken)} == {"down"}
    assert {s for _, s in states(settled, first)} == {"blocked"}
    assert {s for _, s in states(settled, third)} == {"starved"}
    assert {s for _, s in states(settled, fourth)} == {"starved"}
    down = [e for f in outage for e in f.events if e.asset.endswith(line.machines[1].path)]
    assert [(e.state, e.reason) for e in down] == [("down", "forced")]
    after = list(sim.frames(MONDAY_NOON + 2 * US_PER_HOUR + 10 * US_PER_MINUTE))
    assert "producing" in {s for _, s in states(after, first)}
    assert "producing" in {s for _, s in states(after, fourth)}


def test_an_order_change_brings_a_changeover_of_the_kinds_length() -> None:
    plant = build_plant()
    line = next(x for x in plant.lines if x.kind == "press" and x.site == "austin")
    tuning = Tuning(
        random_breakdowns=False, initial_wear=(0.0, 0.0), order_hours=(0.1, 0.1), order_gap_none=1
    )
    sim = Simulation(
        plant, seed=8, start=MONDAY_NOON, tuning=tuning, calendars=around_the_clock(plant)
    )
    frames = list(sim.frames(MONDAY_NOON + 3 * US_PER_HOUR))
    asset = f"acme/austin/{line.area}/{line.name}"
    orders = [e for f in frames for e in f.events if e.kind is EventKind.ORDER and e.asset == asset]
    completed = [e for e in orders if e.end_ts is not None]
    assert len(completed) >= 2
    for done in completed[:2]:
        started = next(e for e in orders if e.end_ts is None and e.ts == done.end_ts)
        assert started.name != done.name  # the next order starts when this one ends
        assert done.attributes["quantity"] == 60  # 0.1 h at the press's 6 s
        for machine in line.machines:
            run = [s for ts, s in states(frames, machine.index) if ts > started.ts]
            changeover = run[: run.index(next(s for s in run if s != "changeover"))]
            low, high = machine.kind.changeover_minutes
            assert low * 60 <= len(changeover) <= high * 60 + 1
    changes = [
        e
        for f in frames
        for e in f.events
        if e.kind is EventKind.STATE_CHANGE and e.state == "changeover"
    ]
    assert {e.reason for e in changes} == {"order_change"}


def test_planned_stops_follow_the_local_calendar_across_a_dst_change() -> None:
    plant = build_plant()
    start = parse_rfc3339("2026-03-27T20:00:00Z")  # Friday, Munich 21:00 CET
    tuning = Tuning(random_breakdowns=False, initial_wear=(0.0, 0.0))
    sim = Simulation(plant, seed=2, start=start, tick=60 * US_PER_SECOND, tuning=tuning)
    frames = list(sim.frames(parse_rfc3339("2026-03-30T09:00:00Z")))
    weekend_start = parse_rfc3339("2026-03-28T05:00:00Z")  # Saturday 06:00 CET
    monday = parse_rfc3339("2026-03-30T04:00:00Z")  # Monday 06:00 CEST, after the change
    munich = [m for m in plant.machines if m.site == "munich"]
    for frame in frames:
        tick_start = frame.ts - sim.tick
        for machine in munich:
            state = frame.values[machine.index][0]
            if weekend_start <= tick_start < monday:
                assert state == 5, (machine.path, tick_start)
            elif tick_start == monday:
                assert state != 5, (machine.path, tick_start)
    shift_events = [e for f in frames for e in f.events if e.kind is EventKind.SHIFT]
    early = next(e for e in shift_events if e.asset == "acme/munich" and e.ts == monday)
    assert early.name == "early"
    assert early.end_ts == monday + 8 * US_PER_HOUR
    reasons = {
        e.reason
        for f in frames
        for e in f.events
        if e.kind is EventKind.STATE_CHANGE and e.state == "planned_stop"
    }
    assert reasons == {"shift", "break"}

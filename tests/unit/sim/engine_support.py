"""Helpers the simulator engine tests share: runs, calendars and replays of frames."""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import time

from omp.core.events import EventKind
from omp.core.time import Micros, parse_rfc3339
from omp.sim.calendar import ShiftCalendar, ShiftPattern
from omp.sim.catalog import STATE_LABELS
from omp.sim.engine import Simulation
from omp.sim.frame import Frame
from omp.sim.plant import Plant

MONDAY_NOON = parse_rfc3339("2026-03-02T12:00:00Z")
"""Both sites at work: Munich 13:00, Austin 06:00."""


def always_on(timezone: str = "UTC") -> ShiftCalendar:
    """A calendar with one 24-hour shift every day and no break: no planned stops."""
    return ShiftCalendar(
        timezone, (ShiftPattern("all_day", time(0), 24.0, time(0), 0.0, frozenset(range(7))),)
    )


def around_the_clock(plant: Plant) -> dict[str, ShiftCalendar]:
    return {site.name: always_on(site.timezone) for site in plant.sites}


def run(sim: Simulation, until: Micros) -> list[Frame]:
    frames = list(sim.frames(until))
    sim.close()
    return frames


@dataclass
class Replay:
    """What a consumer can reconstruct from frames alone."""

    seconds: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    """(machine asset, state label) -> µs, from STATE_CHANGE events."""
    reason_seconds: dict[tuple[str, str, str], int] = field(
        default_factory=lambda: defaultdict(int)
    )
    good: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    scrap: dict[int, int] = field(default_factory=lambda: defaultdict(int))


def replay(plant: Plant, frames: list[Frame], *, wrap: int | None = None) -> Replay:
    """State time from STATE_CHANGE events; parts from counter increments.

    A counter that goes down was reset to 0 (or wrapped, when ``wrap`` is given and resets
    are off): the parts since are its new value (or the distance around the wrap).
    """
    result = Replay()
    last: dict[str, tuple[Micros, str, str | None]] = {}
    for frame in frames:
        for event in frame.events:
            if event.kind is not EventKind.STATE_CHANGE:
                continue
            _close(result, last.get(event.asset), event.asset, event.ts)
            assert event.state is not None
            last[event.asset] = (event.ts, event.state, event.reason)
    end = frames[-1].ts
    for asset, entry in last.items():
        _close(result, entry, asset, end)
    for previous, frame in itertools.pairwise(frames):
        for machine in plant.machines:
            i = machine.index
            for column, into in ((1, result.good), (2, result.scrap)):
                before, after = previous.values[i][column], frame.values[i][column]
                assert isinstance(before, int)
                assert isinstance(after, int)
                if wrap is not None:
                    into[i] += (after - before) % wrap
                else:
                    into[i] += after - before if after >= before else after
    return result


def _close(
    result: Replay, entry: tuple[Micros, str, str | None] | None, asset: str, end: Micros
) -> None:
    if entry is None:
        return
    ts, state, reason = entry
    result.seconds[(asset, state)] += end - ts
    if reason is not None:
        result.reason_seconds[(asset, state, reason)] += end - ts


def states(frames: list[Frame], index: int) -> list[tuple[Micros, str]]:
    """(tick start, state label) of one machine for every frame."""
    out = []
    for frame in frames:
        code = frame.values[index][0]
        assert isinstance(code, int)
        out.append((frame.ts, STATE_LABELS[code]))
    return out

"""One machine's behaviour, tick by tick: its state, parts, counters, wear and quality.

Each tick the machine decides one state for the whole tick, in this order of
precedence: down (a breakdown under repair), planned stop (the shift
calendar), idle (the line has no order), changeover, and then producing,
starved (its input buffer is empty) or blocked (its output buffer is full).
Breakdowns strike only while the machine would produce: random ones after
an exponential run time from the kind's MTBF, and the wear breakdown when
the slowly rising wear reaches 1. Everything it does is drawn from its own
random stream, so it is the same in every run with the same seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from omp.core.time import US_PER_HOUR, US_PER_MINUTE, US_PER_SECOND, Micros
from omp.sim.catalog import MachineState
from omp.sim.orders import Order
from omp.sim.plant import MachineSpec
from omp.sim.rng import RandomStream
from omp.sim.tuning import Tuning

IDLE = int(MachineState.IDLE)
PRODUCING = int(MachineState.PRODUCING)
STARVED = int(MachineState.STARVED)
BLOCKED = int(MachineState.BLOCKED)
CHANGEOVER = int(MachineState.CHANGEOVER)
PLANNED_STOP = int(MachineState.PLANNED_STOP)
DOWN = int(MachineState.DOWN)

NO_ORDER = "no_order"
ORDER_CHANGE = "order_change"

StateKey = tuple[int, str | None]
"""A state code and its reason (None where a state has none)."""


class Flow(Protocol):
    """What a machine sees of its line: the buffers between machines and their size."""

    buffers: list[int]
    """``buffers[k]`` holds the parts made by position k waiting for position k + 1."""
    capacity: int


@dataclass(frozen=True, slots=True)
class QualityEpisode:
    """A stretch in which a machine's quality measurement is off target (for SPC tests)."""

    machine: int
    signal: str
    kind: str
    """``shift`` (the mean jumps by ``magnitude``) or ``trend`` (it drifts linearly and
    reaches ``magnitude`` at ``end``)."""
    start: Micros
    end: Micros
    magnitude: float
    """In the signal's unit."""
    sigma: float
    """The magnitude in standard deviations of the measurement."""


@dataclass(frozen=True, slots=True)
class WearEpisode:
    """Wear from the last repair (or the run's start) to the breakdown it ended in."""

    machine: int
    signal: str
    reason: str
    start: Micros
    end: Micros


Journal = list[Order | QualityEpisode | WearEpisode]
"""Records machines and lines hand to the ground truth as they happen."""


class Machine:
    """The behaviour of one machine; the engine calls ``tick`` once per tick in flow order."""

    __slots__ = (
        "changeover_left", "cycle_s", "down_left", "down_reason", "episode", "good_counter",
        "has_part", "holding", "index", "journal", "kind", "last_quality", "next_episode",
        "next_reset", "order", "order_counts", "order_good", "position", "progress", "reason",
        "rng", "run_left", "run_reason", "scrap_counter", "sigma", "spec", "state", "tuning",
        "wear", "wear_rate", "wear_reason", "wear_since", "win_orders", "win_seconds",
    )  # fmt: skip

    def __init__(
        self, spec: MachineSpec, *, rng: RandomStream, tuning: Tuning, start: Micros,
        journal: Journal,
    ) -> None:  # fmt: skip
        kind = spec.kind
        self.spec = spec
        self.kind = kind
        self.index = spec.index
        self.position = spec.position
        self.rng = rng
        self.tuning = tuning
        self.journal = journal
        self.state: int = IDLE
        self.reason: str | None = NO_ORDER
        self.down_left: Micros = 0
        self.down_reason = ""
        self.changeover_left: Micros = 0
        self.order: Order | None = None
        self.order_good = 0
        self.order_counts: list[int] = [0, 0]
        self.has_part = False
        self.holding = False
        self.progress = 0.0
        self.cycle_s = kind.ideal_cycle_s
        self.good_counter = int(rng.uniform(0.0, 1e6)) % tuning.counter_wrap
        self.scrap_counter = int(rng.uniform(0.0, 1e4)) % tuning.counter_wrap
        self.next_reset = start + self._days(rng.exponential(tuning.counter_reset_days))
        low, target, high = kind.quality_spec
        self.sigma = (high - low) / (6.0 * tuning.quality_cpk)
        self.last_quality = target
        self.episode: QualityEpisode | None = None
        self.next_episode = start + self._hours(rng.exponential(tuning.quality_episode_hours))
        self.wear_reason = f"{kind.degrading}_wear"
        self.wear = rng.uniform(*tuning.initial_wear)
        self.wear_since = start
        self.wear_rate = self._draw_wear_rate()
        self.run_left, self.run_reason = self._draw_failure()
        self.win_seconds: dict[StateKey, Micros] = {}
        self.win_orders: dict[str, list[int]] = {}

    # -- the tick ---------------------------------------------------------------------------

    def tick(self, t: Micros, dt: Micros, planned: str | None, flow: Flow) -> None:
        """Decide this tick's state and do its work; ``planned`` is the calendar's stop reason."""
        if t >= self.next_reset:
            self._reset_counters()
        if t >= self.next_episode:
            self._start_episode(t)
        reason: str | None = None
        if self.down_left > 0:
            state, reason = DOWN, self.down_reason
            self.down_left -= dt
            if self.down_left <= 0:
                self._repaired(t + dt)
        elif planned is not None:
            state, reason = PLANNED_STOP, planned
        elif self.order is None:
            state, reason = IDLE, NO_ORDER
        elif self.changeover_left > 0:
            state, reason = CHANGEOVER, ORDER_CHANGE
            self.changeover_left -= dt
        elif self.run_left <= 0.0 or self.wear >= 1.0:
            state, reason = DOWN, self._break_down(t, dt)
        else:
            seconds = dt / US_PER_SECOND
            state = self._produce(t, seconds, flow)
            if state == PRODUCING:
                self.run_left -= seconds
                self.wear += self.wear_rate * seconds
        self.state = state
        self.reason = reason
        key = (state, reason)
        seconds_by_key = self.win_seconds
        seconds_by_key[key] = seconds_by_key.get(key, 0) + dt

    def _produce(self, t: Micros, available: float, flow: Flow) -> int:
        buffers = flow.buffers
        position = self.position
        last = position == len(buffers)
        if self.holding:
            if not last and buffers[position] >= flow.capacity:
                return BLOCKED
            if not last:
                buffers[position] += 1
            self.holding = False
        if not self.has_part:
            if position > 0:
                if buffers[position - 1] <= 0:
                    return STARVED
                buffers[position - 1] -= 1
            self._start_part()
        # Work the whole tick; the time left when a part cannot be put out or no part comes
        # in is lost inside this producing tick (states change on tick boundaries only).
        while True:
            need = self.cycle_s - self.progress
            if need > available:
                self.progress += available
                return PRODUCING
            available -= need
            self.progress = 0.0
            self.has_part = False
            if self._finish_part(t) and not last:
                if buffers[position] >= flow.capacity:
                    self.holding = True
                    return PRODUCING
                buffers[position] += 1
            if position > 0:
                if buffers[position - 1] <= 0:
                    return PRODUCING
                buffers[position - 1] -= 1
            self._start_part()

    def _start_part(self) -> None:
        kind = self.kind
        factor = 1.0 + kind.cycle_cv * self.rng.normal()
        self.cycle_s = kind.ideal_cycle_s * max(0.5, factor)
        self.has_part = True

    def _finish_part(self, t: Micros) -> bool:
        """Measure the part, count it good or scrap; True when it is good."""
        low, target, high = self.kind.quality_spec
        value = target + self._quality_offset(t) + self.sigma * self.rng.normal()
        self.last_quality = value
        counts = self.order_counts
        wrap = self.tuning.counter_wrap
        if low <= value <= high and self.rng.uniform() >= self.kind.scrap_rate:
            self.good_counter = (self.good_counter + 1) % wrap
            self.order_good += 1
            counts[0] += 1
            return True
        self.scrap_counter = (self.scrap_counter + 1) % wrap
        counts[1] += 1
        return False

    # -- orders -----------------------------------------------------------------------------

    def begin_order(self, order: Order, *, changeover: bool = True) -> None:
        """Work on ``order``, after a changeover that runs in the next working ticks."""
        self.order = order
        self.order_good = 0
        self.order_counts = self.win_orders.setdefault(order.id, [0, 0])
        minutes = self.rng.uniform(*self.kind.changeover_minutes)
        self.changeover_left = round(minutes * US_PER_MINUTE) if changeover else 0

    def end_order(self) -> None:
        """The order is complete: work in progress goes to stock with the line's buffers."""
        self.order = None
        self.has_part = False
        self.holding = False
        self.progress = 0.0
        self.changeover_left = 0
        self.order_counts = [0, 0]

    def start_window(self) -> None:
        """Forget the closed window's figures (the truth recorder has read them)."""
        self.win_seconds = {}
        self.win_orders = {}
        if self.order is not None:
            self.order_counts = self.win_orders.setdefault(self.order.id, [0, 0])

    # -- failures, wear, quality, counters ---------------------------------------------------

    def force_breakdown(self, reason: str, duration: Micros) -> None:
        """Break down from the next tick on, for ``duration`` (tests, demos)."""
        self.down_reason = reason
        self.down_left = duration

    def _break_down(self, t: Micros, dt: Micros) -> str:
        if self.wear >= 1.0:
            reason = self.wear_reason
            low, high = self.tuning.wear_repair_minutes
            self.journal.append(
                WearEpisode(self.index, self.kind.degrading, reason, self.wear_since, t)
            )
        else:
            reason = self.run_reason.reason
            low, high = self.run_reason.repair_minutes
        self.down_reason = reason
        self.down_left = round(self.rng.uniform(low, high) * US_PER_MINUTE) - dt
        if self.down_left <= 0:
            self._repaired(t + dt)
        return reason

    def _repaired(self, at: Micros) -> None:
        self.down_left = 0
        if self.down_reason == self.wear_reason:
            self.wear = 0.0
            self.wear_since = at
            self.wear_rate = self._draw_wear_rate()
        self.run_left, self.run_reason = self._draw_failure()

    def _draw_failure(self) -> tuple[float, _Mode]:
        modes = self.kind.breakdowns
        if not self.tuning.random_breakdowns or not modes:
            return math.inf, _NO_MODE
        rates = [1.0 / (mode.mtbf_hours * 3600.0) for mode in modes]
        mode = modes[self.rng.choice(rates)]
        return self.rng.exponential(1.0 / sum(rates)), _Mode(mode.reason, mode.repair_minutes)

    def _draw_wear_rate(self) -> float:
        return 1.0 / (self.rng.uniform(*self.tuning.wear_life_hours) * 3600.0)

    def _quality_offset(self, t: Micros) -> float:
        episode = self.episode
        if episode is None or t < episode.start:
            return 0.0
        if t >= episode.end:
            self.episode = None
            return 0.0
        if episode.kind == "shift":
            return episode.magnitude
        return episode.magnitude * (t - episode.start) / (episode.end - episode.start)

    def _start_episode(self, t: Micros) -> None:
        rng = self.rng
        kind = "shift" if rng.uniform() < 0.5 else "trend"
        sigmas = rng.uniform(1.0, 2.0) if kind == "shift" else rng.uniform(2.0, 3.0)
        if rng.uniform() < 0.5:
            sigmas = -sigmas
        end = t + self._hours(rng.uniform(*self.tuning.quality_episode_length_hours))
        episode = QualityEpisode(
            self.index, self.kind.quality, kind, t, end, sigmas * self.sigma, sigmas
        )
        self.episode = episode
        self.journal.append(episode)
        self.next_episode = end + self._hours(rng.exponential(self.tuning.quality_episode_hours))

    def _reset_counters(self) -> None:
        self.good_counter = 0
        self.scrap_counter = 0
        self.next_reset += self._days(self.rng.exponential(self.tuning.counter_reset_days))

    @staticmethod
    def _days(days: float) -> Micros:
        return _FAR if math.isinf(days) else round(days * 24 * US_PER_HOUR)

    @staticmethod
    def _hours(hours: float) -> Micros:
        return _FAR if math.isinf(hours) else round(hours * US_PER_HOUR)


@dataclass(frozen=True, slots=True)
class _Mode:
    """The failure mode that strikes next: its reason and repair time range."""

    reason: str
    repair_minutes: tuple[float, float]


_NO_MODE = _Mode("", (0.0, 0.0))
_FAR: Micros = 2**62
"""A time no run reaches: "never" for schedules."""

"""``Simulation``: the plant's behaviour, tick by tick, from a seed.

>>> from omp.core.time import parse_rfc3339
>>> from omp.sim.plant import build_plant
>>> sim = Simulation(build_plant(), seed=1, start=parse_rfc3339("2026-03-02T08:00:00Z"))
>>> frame = sim.step()
>>> frame.ts - parse_rfc3339("2026-03-02T08:00:00Z"), len(frame.values), len(frame.values[0])
(1000000, 26, 20)

Each tick covers [now, now + tick): every site's calendar is read at its
start, every line runs its machines upstream first, and the frame carries
the values at its end (``Frame.ts = now + tick``) with the events of the
tick (stamped at their real times: a state change at the tick's start, an
order's completion at its end). States change only on tick boundaries, so
seconds per state are whole ticks and the ground truth is exact.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from omp.core.events import Event, EventKind
from omp.core.time import US_PER_SECOND, Micros
from omp.sim.calendar import Shift, ShiftCalendar, ShiftCursor, default_calendar
from omp.sim.catalog import STATE_LABELS
from omp.sim.frame import Frame, Value
from omp.sim.line import Line
from omp.sim.machine import PRODUCING, Journal, Machine
from omp.sim.orders import OrderStream
from omp.sim.plant import LineSpec, Plant
from omp.sim.process import ProcessModel
from omp.sim.rng import Purpose, RandomStream, stream
from omp.sim.truth import TruthRecorder
from omp.sim.tuning import Tuning

_DROP = 3600 * US_PER_SECOND


class Simulation:
    """The plant's behaviour from ``start`` on, one ``step()`` per tick.

    ``calendars`` maps site names to shift calendars (default: three shifts
    in Munich, two elsewhere). ``truth`` records what really happens; call
    ``close()`` at the end of a run to write its last, partial window.
    """

    def __init__(
        self,
        plant: Plant,
        *,
        seed: int,
        start: Micros,
        tick: Micros = US_PER_SECOND,
        tuning: Tuning | None = None,
        calendars: Mapping[str, ShiftCalendar] | None = None,
        truth: TruthRecorder | None = None,
    ) -> None:
        self.plant = plant
        self.seed = seed
        self._tick = _checked_tick(tick)
        self.tuning = tuning or Tuning()
        self._now = start
        self._truth = truth
        self._journal: Journal = []
        self._machines = [self._machine(m.index, start) for m in plant.machines]
        self._assets = [f"{plant.enterprise}/{m.path}" for m in plant.machines]
        self._sites = [
            (
                f"{plant.enterprise}/{site.name}",
                ShiftCursor(_calendar(calendars, site.name, site.timezone)),
                [self._line(line, start) for line in site.lines],
            )
            for site in plant.sites
        ]
        self._process = ProcessModel(plant, seed=seed)
        self._reported: list[tuple[int, str | None] | None] = [None] * len(self._machines)
        # Without a recorder, window figures are still gathered (cheaply) and dropped hourly.
        self._window_end = truth.begin(start=start, tick=tick) if truth else start + _DROP

    @property
    def tick(self) -> Micros:
        """The length of a tick in µs.

        It may be changed between steps, e.g. 10 s ticks to backfill history fast and then
        1 s ticks live; with a truth recorder the new tick must divide its window and ``now``.
        """
        return self._tick

    @tick.setter
    def tick(self, tick: Micros) -> None:
        tick = _checked_tick(tick)
        if self._truth is not None and (self._truth.window_size % tick or self._now % tick):
            raise ValueError(
                f"with a truth recorder the tick ({tick} µs) must divide its window and now"
            )
        self._tick = tick

    @property
    def now(self) -> Micros:
        """Simulated time: the start of the next tick (the last frame's ``ts``)."""
        return self._now

    @property
    def machines(self) -> list[Machine]:
        """The machines' behaviour, in ``Plant.machines`` order (read it, do not change it)."""
        return self._machines

    def step(self) -> Frame:
        """Advance one tick and return the frame at its end."""
        t, dt = self._now, self._tick
        events: list[Event] = []
        for asset, cursor, lines in self._sites:
            planned, shift = cursor.at(t)
            if shift is not None:
                events.append(_shift_event(asset, shift))
            for line in lines:
                line.tick(t, dt, planned, events, self._journal)
        self._now = t + dt
        self._state_events(t, events)
        frame = Frame(ts=self._now, values=self._values(), events=_in_time_order(events))
        self._record()
        return frame

    def frames(self, until: Micros) -> Iterator[Frame]:
        """Frames up to and including the tick that ends at or after ``until``."""
        while self._now < until:
            yield self.step()

    def force_breakdown(self, machine: int, *, reason: str, duration: Micros) -> None:
        """Break machine ``machine`` (its index) down from the next tick on, for ``duration``."""
        self._machines[machine].force_breakdown(reason, duration)

    def close(self) -> None:
        """End the run: hand the truth recorder the partial window and the running orders.

        Only the truth is closed; a closed simulation steps on without recording truth.
        """
        truth, self._truth = self._truth, None
        if truth is not None:
            truth.window(self._machines, end=self._now)
            running = [line.order for _, _, lines in self._sites for line in lines if line.order]
            truth.close(running)

    # -- internals ----------------------------------------------------------------------------

    def _machine(self, index: int, start: Micros) -> Machine:
        spec = self.plant.machines[index]
        rng = stream(self.seed, Purpose.MACHINE, f"{self.plant.enterprise}/{spec.path}")
        return Machine(
            spec, rng=RandomStream(rng), tuning=self.tuning, start=start, journal=self._journal
        )

    def _line(self, spec: LineSpec, start: Micros) -> Line:
        asset = f"{self.plant.enterprise}/{spec.site}/{spec.area}/{spec.name}"
        rng = RandomStream(stream(self.seed, Purpose.ORDERS, asset))
        machines = [self._machines[m.index] for m in spec.machines]
        return Line(
            spec,
            asset=asset,
            machines=machines,
            orders=OrderStream(spec, asset, rng, self.tuning),
            start=start,
            first_changeover=self.tuning.first_changeover,
        )

    def _state_events(self, t: Micros, events: list[Event]) -> None:
        reported = self._reported
        for i, machine in enumerate(self._machines):
            key = (machine.state, machine.reason)
            if reported[i] != key:
                reported[i] = key
                label = STATE_LABELS[machine.state]
                events.append(
                    Event(
                        ts=t,
                        asset=self._assets[i],
                        kind=EventKind.STATE_CHANGE,
                        name=label,
                        state=label,
                        reason=machine.reason,
                    )
                )

    def _values(self) -> list[list[Value]]:
        machines = self._machines
        floats = self._process.update(
            self._tick,
            [m.state == PRODUCING for m in machines],
            [m.wear for m in machines],
            [m.last_quality for m in machines],
            self.tuning.wear_gain,
        )
        rows: list[list[Value]] = []
        for machine, process in zip(machines, floats, strict=True):
            order = machine.order
            if order is None:
                head: list[Value] = [machine.state, machine.good_counter, machine.scrap_counter]
                head += ["", ""]
            else:
                head = [
                    machine.state,
                    machine.good_counter,
                    machine.scrap_counter,
                    order.id,
                    order.product,
                ]
            head += process
            rows.append(head)
        return rows

    def _record(self) -> None:
        truth = self._truth
        if truth is not None:
            for item in self._journal:
                truth.record(item)
        self._journal.clear()
        if self._now < self._window_end:
            return
        if truth is not None:
            self._window_end = truth.window(self._machines, end=self._now)
        else:
            self._window_end = self._now + _DROP
            for machine in self._machines:
                machine.start_window()


def _checked_tick(tick: Micros) -> Micros:
    if tick <= 0:
        raise ValueError(f"tick must be positive, not {tick} µs")
    return tick


def _calendar(
    calendars: Mapping[str, ShiftCalendar] | None, site: str, timezone: str
) -> ShiftCalendar:
    if calendars is not None and site in calendars:
        return calendars[site]
    return default_calendar(site, timezone)


def _shift_event(asset: str, shift: Shift) -> Event:
    return Event(
        ts=shift.start,
        asset=asset,
        kind=EventKind.SHIFT,
        name=shift.name,
        end_ts=shift.end,
        attributes={"break_start": shift.break_start, "break_end": shift.break_end},
    )


def _in_time_order(events: list[Event]) -> list[Event]:
    # Stable: events of one time keep the order they happened in.
    return sorted(events, key=lambda e: e.ts)

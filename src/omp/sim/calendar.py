"""Shift calendars in each site's own time zone: when a site works, breaks and stops.

A ``ShiftPattern`` is written in local wall-clock time (``06:00`` for eight
hours, a break at ``10:00``); ``ShiftCalendar`` turns it into UTC spans with
``zoneinfo``, so a shift starts at 06:00 local on both sides of a daylight
saving change and a night shift across the change lasts 7 or 9 real hours.
Outside every shift, and in breaks, the site is in a planned stop.

>>> from omp.core.time import parse_rfc3339, to_rfc3339
>>> cal = default_calendar("munich", "Europe/Berlin")
>>> [to_rfc3339(s.start) for s in cal.shifts_on_day(parse_rfc3339("2026-03-30T12:00:00Z"))][:1]
['2026-03-30T04:00:00Z']
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from omp.core.time import US_PER_DAY, Micros, datetime_to_micros, to_datetime

OFF_SHIFT = "shift"
"""Planned-stop reason outside every shift."""
BREAK = "break"
"""Planned-stop reason in a shift's break."""

WEEKDAYS = frozenset(range(5))
"""Monday to Friday (``date.weekday()`` numbers)."""


@dataclass(frozen=True, slots=True)
class ShiftPattern:
    """A shift as the site's roster writes it, in local time.

    The shift starts on each of ``weekdays`` at ``start`` and lasts ``hours`` of wall-clock
    time; its break starts at ``break_at`` (on the next day when earlier than ``start``).
    """

    name: str
    start: time
    hours: float
    break_at: time
    break_minutes: float = 30.0
    weekdays: frozenset[int] = WEEKDAYS


@dataclass(frozen=True, slots=True)
class Shift:
    """One shift's real span in UTC µs, break included."""

    name: str
    start: Micros
    end: Micros
    break_start: Micros
    break_end: Micros


@dataclass(frozen=True, slots=True)
class ShiftCalendar:
    """A site's shift patterns in its IANA time zone."""

    timezone: str
    patterns: tuple[ShiftPattern, ...]

    def shifts_on_day(self, at: Micros) -> list[Shift]:
        """The shifts starting on the local date of ``at``, in start order."""
        zone = ZoneInfo(self.timezone)
        day = to_datetime(at).astimezone(zone).date()
        return self._shifts_starting(day, zone)

    def shifts_between(self, start: Micros, end: Micros) -> list[Shift]:
        """Every shift that overlaps [start, end), in start order."""
        zone = ZoneInfo(self.timezone)
        first = to_datetime(start - 2 * US_PER_DAY).astimezone(zone).date()
        last = to_datetime(end + US_PER_DAY).astimezone(zone).date()
        shifts: list[Shift] = []
        day = first
        while day <= last:
            shifts.extend(s for s in self._shifts_starting(day, zone) if s.end > start)
            day += timedelta(days=1)
        return [s for s in shifts if s.start < end]

    def _shifts_starting(self, day: date, zone: ZoneInfo) -> list[Shift]:
        shifts = [_shift(p, day, zone) for p in self.patterns if day.weekday() in p.weekdays]
        return sorted(shifts, key=lambda s: s.start)


def _local(wall: datetime, zone: ZoneInfo) -> Micros:
    # fold=0: a wall time repeated at the autumn change means its first occurrence; one that
    # does not exist in spring maps forward by the gap, as a clock on the wall would.
    return datetime_to_micros(wall.replace(tzinfo=zone))


def _shift(pattern: ShiftPattern, day: date, zone: ZoneInfo) -> Shift:
    start_wall = datetime.combine(day, pattern.start)
    end_wall = start_wall + timedelta(hours=pattern.hours)
    break_day = day if pattern.break_at >= pattern.start else day + timedelta(days=1)
    break_wall = datetime.combine(break_day, pattern.break_at)
    break_end_wall = break_wall + timedelta(minutes=pattern.break_minutes)
    return Shift(
        pattern.name,
        _local(start_wall, zone),
        _local(end_wall, zone),
        _local(break_wall, zone),
        _local(break_end_wall, zone),
    )


class ShiftCursor:
    """Walks a calendar forward in time; ``at(t)`` is cheap while ``t`` stays in one span.

    ``at(t)`` returns the planned-stop reason at ``t`` (``None`` while working)
    and the shift just entered, once per shift, so the engine emits its SHIFT
    event. A run that starts inside a shift enters that shift at its first tick.
    """

    __slots__ = ("_calendar", "_end", "_reason", "_shift", "_start", "_started")

    def __init__(self, calendar: ShiftCalendar) -> None:
        self._calendar = calendar
        self._start: Micros = 0
        self._end: Micros = -1
        self._reason: str | None = OFF_SHIFT
        self._shift: Shift | None = None
        self._started: set[tuple[str, Micros]] = set()

    def at(self, t: Micros) -> tuple[str | None, Shift | None]:
        if not self._start <= t < self._end:
            self._seek(t)
        shift = self._shift
        if shift is None or (shift.name, shift.start) in self._started:
            return self._reason, None
        self._started = {(shift.name, shift.start)}
        return self._reason, shift

    def _seek(self, t: Micros) -> None:
        shifts = self._calendar.shifts_between(t - US_PER_DAY, t + 8 * US_PER_DAY)
        current = next((s for s in shifts if s.start <= t < s.end), None)
        self._shift = current
        if current is None:
            before = [s.end for s in shifts if s.end <= t]
            after = [s.start for s in shifts if s.start > t]
            self._start = max(before, default=t)
            self._end = min(after, default=t + US_PER_DAY)
            self._reason = OFF_SHIFT
        elif current.break_start <= t < current.break_end:
            self._start, self._end, self._reason = current.break_start, current.break_end, BREAK
        elif t < current.break_start:
            self._start, self._end, self._reason = current.start, current.break_start, None
        else:
            self._start, self._end, self._reason = current.break_end, current.end, None


def three_shifts(timezone: str) -> ShiftCalendar:
    """Early, late and night shift Monday to Friday, 30 minutes' break each."""
    return ShiftCalendar(
        timezone,
        (
            ShiftPattern("early", time(6), 8.0, time(10)),
            ShiftPattern("late", time(14), 8.0, time(18)),
            ShiftPattern("night", time(22), 8.0, time(2)),
        ),
    )


def two_shifts(timezone: str) -> ShiftCalendar:
    """Day and swing shift Monday to Friday, 30 minutes' break each; nights off."""
    return ShiftCalendar(
        timezone,
        (
            ShiftPattern("day", time(6), 8.0, time(10)),
            ShiftPattern("swing", time(14), 8.0, time(18)),
        ),
    )


def default_calendar(site: str, timezone: str) -> ShiftCalendar:
    """The demo plant's rosters: three shifts in Munich, two in Austin and elsewhere."""
    return three_shifts(timezone) if site == "munich" else two_shifts(timezone)

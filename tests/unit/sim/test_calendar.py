"""Shift calendars: local wall-clock rosters turned into UTC spans across DST changes."""

from __future__ import annotations

from datetime import time

from omp.core.time import US_PER_HOUR, US_PER_MINUTE, parse_rfc3339
from omp.sim.calendar import (
    BREAK,
    OFF_SHIFT,
    ShiftCalendar,
    ShiftCursor,
    ShiftPattern,
    three_shifts,
    two_shifts,
)


def test_shifts_start_at_local_six_on_both_sides_of_the_spring_change() -> None:
    munich = three_shifts("Europe/Berlin")
    before = munich.shifts_on_day(parse_rfc3339("2026-03-23T12:00:00Z"))
    after = munich.shifts_on_day(parse_rfc3339("2026-03-30T12:00:00Z"))
    assert [s.name for s in before] == ["early", "late", "night"]
    assert before[0].start == parse_rfc3339("2026-03-23T05:00:00Z")  # 06:00 CET
    assert after[0].start == parse_rfc3339("2026-03-30T04:00:00Z")  # 06:00 CEST
    assert before[0].break_start == parse_rfc3339("2026-03-23T09:00:00Z")
    assert before[0].break_end - before[0].break_start == 30 * US_PER_MINUTE
    austin = two_shifts("America/Chicago")
    assert austin.shifts_on_day(parse_rfc3339("2026-03-02T18:00:00Z"))[0].start == parse_rfc3339(
        "2026-03-02T12:00:00Z"
    )  # 06:00 CST
    assert austin.shifts_on_day(parse_rfc3339("2026-03-09T18:00:00Z"))[0].start == parse_rfc3339(
        "2026-03-09T11:00:00Z"
    )  # 06:00 CDT


def test_a_night_shift_across_a_change_lasts_its_wall_clock_hours() -> None:
    every_day = ShiftCalendar(
        "Europe/Berlin",
        (ShiftPattern("night", time(22), 8.0, time(2), 30.0, frozenset(range(7))),),
    )
    spring = every_day.shifts_on_day(parse_rfc3339("2026-03-28T12:00:00Z"))[0]
    autumn = every_day.shifts_on_day(parse_rfc3339("2026-10-24T12:00:00Z"))[0]
    assert spring.end - spring.start == 7 * US_PER_HOUR
    assert autumn.end - autumn.start == 9 * US_PER_HOUR
    assert autumn.end == parse_rfc3339("2026-10-25T05:00:00Z")  # 06:00 CET


def test_the_cursor_reports_breaks_stops_and_each_shift_once() -> None:
    cursor = ShiftCursor(three_shifts("Europe/Berlin"))
    early_start = parse_rfc3339("2026-03-02T05:00:00Z")
    reason, entered = cursor.at(early_start - 1)
    assert (reason, entered) == (OFF_SHIFT, None)  # Monday 05:59:59 local, after a weekend
    reason, entered = cursor.at(early_start)
    assert reason is None
    assert entered is not None
    assert entered.name == "early"
    assert cursor.at(early_start + US_PER_HOUR) == (None, None)
    assert cursor.at(parse_rfc3339("2026-03-02T09:10:00Z")) == (BREAK, None)
    assert cursor.at(parse_rfc3339("2026-03-02T09:30:00Z")) == (None, None)
    reason, entered = cursor.at(parse_rfc3339("2026-03-02T13:00:00Z"))
    assert entered is not None
    assert entered.name == "late"
    assert cursor.at(parse_rfc3339("2026-03-07T12:00:00Z"))[0] == OFF_SHIFT  # Saturday

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omp.core.errors import TimeFormatError
from omp.core.time import (
    US_PER_HOUR,
    floor_to,
    format_duration,
    parse_duration,
    parse_rfc3339,
    parse_time,
    to_rfc3339,
)

NOW = parse_rfc3339("2026-11-30T12:00:00Z")


def test_offsets_are_honoured() -> None:
    assert parse_rfc3339("2026-11-30T14:00:00+02:00") == NOW
    assert parse_rfc3339("2026-11-30T12:00:00.5Z") == NOW + 500_000


def test_naive_timestamp_is_rejected_with_a_hint() -> None:
    with pytest.raises(TimeFormatError, match=r"no UTC offset.*2026-11-30T12:00:00Z"):
        parse_rfc3339("2026-11-30T12:00:00")


def test_garbage_names_the_input() -> None:
    with pytest.raises(TimeFormatError, match="'yesterday-ish'"):
        parse_rfc3339("yesterday-ish")


def test_relative_times() -> None:
    assert parse_time("now", now=NOW) == NOW
    assert parse_time("-2h", now=NOW) == NOW - 2 * US_PER_HOUR
    assert parse_time("+15m", now=NOW) == NOW + 15 * 60_000_000
    assert parse_time("2026-11-30T13:00:00+01:00", now=0) == NOW


@pytest.mark.parametrize(
    ("text", "micros"),
    [("1m", 60_000_000), ("90s", 90_000_000), ("1.5h", 5_400_000_000), ("500ms", 500_000)],
)
def test_durations(text: str, micros: int) -> None:
    assert parse_duration(text) == micros


@pytest.mark.parametrize("text", ["", "5", "m", "-1m", "1 parsec", "0s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(TimeFormatError):
        parse_duration(text)


@given(st.integers(min_value=0, max_value=4_102_444_800_000_000))
def test_rfc3339_round_trip(micros: int) -> None:
    assert parse_rfc3339(to_rfc3339(micros)) == micros


@given(st.integers(min_value=1, max_value=10**12))
def test_format_duration_round_trip(micros: int) -> None:
    assert parse_duration(format_duration(micros)) == micros


def test_floor_to_aligns_to_epoch_multiples() -> None:
    assert floor_to(NOW + 123, 60_000_000) == NOW

"""Time inside omp is int64 microseconds since the Unix epoch, UTC.

At the edges time is RFC 3339 with an offset. A naive timestamp is rejected,
because guessing a time zone for shop-floor data silently shifts history.

>>> parse_rfc3339("2026-01-01T00:00:00Z")
1767225600000000
>>> to_rfc3339(1767225600000000)
'2026-01-01T00:00:00Z'
>>> parse_duration("1m")
60000000
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime

from omp.core.errors import TimeFormatError

Micros = int
"""Microseconds since 1970-01-01T00:00:00Z."""

Clock = Callable[[], Micros]
"""A source of the current time; injected so tests control time."""

US_PER_SECOND = 1_000_000
US_PER_MINUTE = 60 * US_PER_SECOND
US_PER_HOUR = 60 * US_PER_MINUTE
US_PER_DAY = 24 * US_PER_HOUR

_UNITS: dict[str, int] = {
    "us": 1,
    "ms": 1_000,
    "s": US_PER_SECOND,
    "m": US_PER_MINUTE,
    "min": US_PER_MINUTE,
    "h": US_PER_HOUR,
    "d": US_PER_DAY,
    "w": 7 * US_PER_DAY,
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|min|m|h|d|w)\s*$")
_RELATIVE = re.compile(r"^\s*([+-])\s*(\d+(?:\.\d+)?\s*(?:us|ms|s|min|m|h|d|w))\s*$")


def system_clock() -> Micros:
    """The wall clock in microseconds since the epoch."""
    return time.time_ns() // 1_000


def parse_duration(text: str) -> Micros:
    """Parse ``90s``, ``1m``, ``2h``, ``7d``, ``1w``, ``500ms`` into microseconds (> 0)."""
    match = _DURATION.match(text)
    if match is None:
        raise TimeFormatError(
            f"duration {text!r} is not understood; use a number and a unit: us, ms, s, m, h, d, w"
        )
    amount = float(match.group(1)) * _UNITS[match.group(2)]
    if amount < 1:
        raise TimeFormatError(f"duration {text!r} must be at least 1 microsecond")
    return int(amount)


def format_duration(micros: Micros) -> str:
    """The shortest exact spelling of a duration: ``60000000`` -> ``1m``."""
    for unit in ("w", "d", "h", "m", "s", "ms"):
        size = _UNITS[unit]
        if micros % size == 0:
            return f"{micros // size}{unit}"
    return f"{micros}us"


def parse_rfc3339(text: str) -> Micros:
    """Parse an RFC 3339 timestamp that carries an offset (``Z`` or ``+02:00``)."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError as exc:
        raise TimeFormatError(f"timestamp {text!r} is not RFC 3339: {exc}") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise TimeFormatError(
            f"timestamp {text!r} has no UTC offset; write it as e.g. {text.strip()}Z"
        )
    return datetime_to_micros(parsed)


def datetime_to_micros(value: datetime) -> Micros:
    """Convert an aware datetime to microseconds; a naive one is an error."""
    if value.tzinfo is None:
        raise TimeFormatError(f"datetime {value.isoformat()} is naive; attach a time zone")
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * US_PER_SECOND + delta.microseconds


def to_datetime(micros: Micros) -> datetime:
    """The aware UTC datetime of a microsecond timestamp."""
    return datetime.fromtimestamp(micros // US_PER_SECOND, tz=UTC).replace(
        microsecond=micros % US_PER_SECOND
    )


def to_rfc3339(micros: Micros) -> str:
    """Format as RFC 3339 in UTC with a ``Z``; sub-second digits only when present."""
    text = to_datetime(micros).isoformat()
    return text.replace("+00:00", "Z")


def parse_time(text: str, *, now: Micros) -> Micros:
    """Parse a point in time as the CLI and API accept it.

    ``now``, a relative time (``-2h``, ``+15m``) counted from ``now``, or an
    RFC 3339 timestamp with an offset.
    """
    stripped = text.strip()
    if stripped.lower() == "now":
        return now
    match = _RELATIVE.match(stripped)
    if match is not None:
        offset = parse_duration(match.group(2))
        return now - offset if match.group(1) == "-" else now + offset
    return parse_rfc3339(stripped)


def floor_to(micros: Micros, width: Micros) -> Micros:
    """Align a timestamp down to a multiple of ``width`` counted from the epoch."""
    return micros - micros % width

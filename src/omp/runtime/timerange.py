"""Reading a query's time bounds as the CLI and the API accept them, within storable time.

``core.time.parse_time`` accepts any relative offset; a bound outside
1970-01-01 .. 9999-12-31 cannot be stored or formatted (Python's datetime
overflows), so it is refused here with a message naming the argument.

>>> parse_bound("-1h", now=7_200_000_000, name="--from")
3600000000
"""

from __future__ import annotations

from omp.core.errors import TimeFormatError
from omp.core.time import Micros, parse_time

EARLIEST: Micros = 0
"""1970-01-01T00:00:00Z: history starts at the Unix epoch."""
LATEST: Micros = 253_402_300_800_000_000
"""10000-01-01T00:00:00Z (exclusive): the first time RFC 3339 cannot spell."""


def parse_bound(text: str, *, now: Micros, name: str) -> Micros:
    """``text`` (``now``, ``-2h``, RFC 3339) as microseconds; ``TimeFormatError`` naming ``name``.

    ``now`` is the time relative bounds count from, and the upper bound may be
    exactly 10000-01-01 (an exclusive end).
    """
    try:
        micros = parse_time(text, now=now)
    except TimeFormatError as exc:
        raise TimeFormatError(f"{name} {text!r}: {exc}") from None
    if micros < EARLIEST:
        raise TimeFormatError(
            f"{name} {text!r} is before 1970-01-01T00:00:00Z; omp stores no earlier time"
        )
    if micros > LATEST:
        raise TimeFormatError(f"{name} {text!r} is after the year 9999; use an earlier time")
    return micros


def parse_range(
    start: str, end: str, *, now: Micros, names: tuple[str, str]
) -> tuple[Micros, Micros]:
    """Both bounds of a query (see ``parse_bound``); ``names`` are how the caller spells them."""
    return parse_bound(start, now=now, name=names[0]), parse_bound(end, now=now, name=names[1])

"""Timestamps in payloads: RFC 3339 with an offset, or epoch numbers in s, ms, µs or ns.

Every form becomes int64 microseconds since the epoch, UTC. A naive RFC 3339
time (no ``Z``, no ``+02:00``) is refused: guessing its zone would shift history.

>>> to_micros("2026-01-01T01:00:00+01:00", TimestampFormat.RFC3339)
1767225600000000
>>> to_micros(1767225600123, TimestampFormat.EPOCH_MS)
1767225600123000
>>> to_micros("2026-01-01T00:00:00", TimestampFormat.RFC3339)
Traceback (most recent call last):
...
omp.connectors.mqtt.timestamps.BadTimestamp: timestamp '2026-01-01T00:00:00' has no UTC offset
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from omp.core.rejects import RejectReason
from omp.core.time import datetime_to_micros


class TimestampFormat(StrEnum):
    RFC3339 = "rfc3339"
    EPOCH_S = "epoch_s"
    EPOCH_MS = "epoch_ms"
    EPOCH_US = "epoch_us"
    EPOCH_NS = "epoch_ns"


class BadTimestamp(Exception):  # noqa: N818  # a refusal with its reason, not a crash
    """A timestamp field that cannot be used; ``reason`` is what the point is rejected as."""

    def __init__(self, message: str, reason: RejectReason = RejectReason.MALFORMED) -> None:
        super().__init__(message)
        self.reason = reason


_PER_SECOND: dict[TimestampFormat, int] = {
    TimestampFormat.EPOCH_S: 1,
    TimestampFormat.EPOCH_MS: 1_000,
    TimestampFormat.EPOCH_US: 1_000_000,
    TimestampFormat.EPOCH_NS: 1_000_000_000,
}


def to_micros(raw: object, form: TimestampFormat) -> int:
    """Microseconds since the epoch of a payload's timestamp; ``BadTimestamp`` says why not."""
    if form is TimestampFormat.RFC3339:
        return _rfc3339(raw)
    if type(raw) is int:
        per_second = _PER_SECOND[form]
        # Integer arithmetic keeps epoch_ms and epoch_ns exact (a float has 53 bits).
        return raw * (1_000_000 // per_second) if per_second <= 1_000_000 else raw // 1_000
    if type(raw) is float:
        return round(raw * (1_000_000 / _PER_SECOND[form]))
    raise BadTimestamp(f"timestamp {raw!r} is not a number ({form.value})")


def _rfc3339(raw: object) -> int:
    if type(raw) is not str:
        raise BadTimestamp(f"timestamp {raw!r} is not an RFC 3339 string")
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise BadTimestamp(f"timestamp {raw!r} is not RFC 3339") from None
    if parsed.tzinfo is None:
        raise BadTimestamp(f"timestamp {raw!r} has no UTC offset", RejectReason.NAIVE_TIMESTAMP)
    return datetime_to_micros(parsed)

"""Why a point was refused. One list of reasons for ingest, connectors and import."""

from __future__ import annotations

from enum import StrEnum


class RejectReason(StrEnum):
    """Reasons a point is rejected; the value is the label in counters and reports."""

    UNKNOWN_SIGNAL = "unknown_signal"
    """No signal is bound to the source address, or the signal id is not in the model."""
    NOT_FINITE = "not_finite"
    """The value is NaN or infinite."""
    NAIVE_TIMESTAMP = "naive_timestamp"
    """The timestamp carries no UTC offset (counted by the decoder that parsed it)."""
    FUTURE_TIMESTAMP = "future_timestamp"
    """The timestamp is further in the future than the allowed clock skew."""
    BEFORE_1970 = "before_1970"
    """The timestamp is before the Unix epoch."""
    WRONG_TYPE = "wrong_type"
    """The value does not fit the signal's datatype (text for a number, 2.5 for a bool)."""
    INVALID_QUALITY = "invalid_quality"
    """The quality code is none of good, uncertain, bad."""
    INCOMPATIBLE_UNIT = "incompatible_unit"
    """The source reported a unit that cannot be converted to the signal's unit."""
    MALFORMED = "malformed"
    """The input could not be decoded at all (counted by the decoder)."""

    @property
    def code(self) -> int:
        """A small integer for per-row reason arrays."""
        return _CODES[self]

    @classmethod
    def from_code(cls, code: int) -> RejectReason:
        return _BY_CODE[code]


_CODES: dict[RejectReason, int] = {reason: i for i, reason in enumerate(RejectReason)}
_BY_CODE: dict[int, RejectReason] = {i: reason for reason, i in _CODES.items()}

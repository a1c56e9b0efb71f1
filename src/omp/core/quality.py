"""Data quality, after the three OPC UA status code severities."""

from __future__ import annotations

from enum import IntEnum


class Quality(IntEnum):
    """How far a value can be trusted. Stored as uint8 beside every point."""

    GOOD = 0
    UNCERTAIN = 1
    BAD = 2

    @classmethod
    def parse(cls, text: str) -> Quality:
        """Parse ``good``, ``uncertain`` or ``bad`` (any case)."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"quality {text!r} is not one of good, uncertain, bad") from None

    @property
    def label(self) -> str:
        return self.name.lower()

"""The error hierarchy. Every error names the thing at fault.

Library errors are translated into these at the boundary, so callers never
need to know which driver or engine sits underneath.
"""

from __future__ import annotations


class OmpError(Exception):
    """Base of every error omp raises on purpose."""


class ConfigError(OmpError):
    """Configuration or model input is wrong; the message names the file and place."""


class TimeFormatError(OmpError, ValueError):
    """A timestamp or duration could not be parsed (naive, malformed, out of range)."""


class UnknownSignalError(OmpError, KeyError):
    """A path, glob or id names no signal in the model."""

    def __str__(self) -> str:  # KeyError quotes its argument; we want the plain message
        return str(self.args[0]) if self.args else "unknown signal"


class HistorianError(OmpError):
    """The historian could not do what was asked."""


class HistorianUnavailableError(HistorianError):
    """The storage engine cannot be reached or opened; the message names the URL or file."""


class HistorianTimeoutError(HistorianError, TimeoutError):
    """Data was not durable within the time the caller allowed; names the last write error."""


class HistorianClosedError(HistorianError):
    """The historian was stopped; it takes no more writes."""


class BackpressureError(OmpError):
    """The ingest queue stayed full for longer than the caller was willing to wait."""

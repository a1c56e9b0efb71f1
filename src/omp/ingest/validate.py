"""Vectorised point checks: one reason code per row, the first failing check wins.

Nothing here builds a Python object per point; each check is a handful of
numpy operations over the whole batch.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from omp.core.rejects import RejectReason
from omp.core.time import Micros

OK = np.uint8(255)
"""The reason code of a row that passed every check."""

Reasons = npt.NDArray[np.uint8]


class Checker:
    """Accumulates per-row reason codes; a row keeps the first reason it gets."""

    def __init__(self, reasons: Reasons) -> None:
        self.reasons = reasons

    def mark(self, failed: npt.NDArray[np.bool_], reason: RejectReason) -> None:
        if failed.any():
            self.reasons[failed & (self.reasons == OK)] = reason.code

    @property
    def good(self) -> npt.NDArray[np.bool_]:
        return self.reasons == OK  # type: ignore[no-any-return]  # numpy comparison is a bool array


def check_times(checker: Checker, ts: npt.NDArray[np.int64], *, latest: Micros) -> None:
    """Reject times before 1970 and times after ``latest`` (now plus the allowed skew)."""
    checker.mark(ts < 0, RejectReason.BEFORE_1970)
    checker.mark(ts > latest, RejectReason.FUTURE_TIMESTAMP)


def check_numbers(
    checker: Checker, values: npt.NDArray[np.float64], datatype: npt.NDArray[np.uint8]
) -> None:
    """Reject NaN/inf, text signals, non-integral ints and bools other than 0/1.

    ``datatype`` holds, per row, the code of the row's signal (see ``DatatypeCode``).
    """
    checker.mark(~np.isfinite(values), RejectReason.NOT_FINITE)
    checker.mark(datatype == DatatypeCode.STRING, RejectReason.WRONG_TYPE)
    integral = datatype == DatatypeCode.INT
    if integral.any():
        checker.mark(integral & (np.trunc(values) != values), RejectReason.WRONG_TYPE)
    boolean = datatype == DatatypeCode.BOOL
    if boolean.any():
        checker.mark(boolean & (values != 0.0) & (values != 1.0), RejectReason.WRONG_TYPE)


def check_text(checker: Checker, datatype: npt.NDArray[np.uint8]) -> None:
    """Reject text values for signals that are not text."""
    checker.mark(datatype != DatatypeCode.STRING, RejectReason.WRONG_TYPE)


class DatatypeCode:
    """Small integer codes of signal datatypes for per-row lookups."""

    FLOAT = np.uint8(0)
    INT = np.uint8(1)
    BOOL = np.uint8(2)
    STRING = np.uint8(3)
    UNKNOWN = np.uint8(4)

"""File line numbers of CSV records when quoted cells span several lines.

Arrow numbers records, not lines: after a cell holding a line break, record
``r`` no longer sits on line ``r``. One vectorised pass over the bytes finds
the line breaks inside quotes (an odd number of quote characters before them)
and keeps, per record that spans lines, how many extra lines it takes. Files
without such cells (nearly all) keep nothing, and numbers stay as they are.

>>> lines = RecordLines(records=np.array([3]), extra=np.array([2]))
>>> lines.of(np.array([2, 3, 4, 5])).tolist()
[2, 3, 6, 7]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

_BLOCK = 16 << 20
_QUOTE = ord('"')
_NEWLINE = ord("\n")


def _empty() -> npt.NDArray[np.int64]:
    return np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class RecordLines:
    """Records (1-based, the header is 1) that span extra lines, and how many extra each."""

    records: npt.NDArray[np.int64] = field(default_factory=_empty)
    extra: npt.NDArray[np.int64] = field(default_factory=_empty)

    def of(self, records: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The line each of ``records`` starts on."""
        if not len(self.records):
            return records
        before = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(self.extra)])
        index = np.searchsorted(self.records, records, side="left")
        return np.asarray(records + before[index], dtype=np.int64)


def record_lines(file: Path, *, block_bytes: int = _BLOCK) -> RecordLines:
    """Scan ``file`` for line breaks inside quoted cells; ``OSError`` if it cannot be read."""
    inside_quotes = False
    separators = 0  # record-ending line breaks seen so far
    found: list[npt.NDArray[np.int64]] = []
    with file.open("rb") as handle:
        while block := handle.read(block_bytes):
            data = np.frombuffer(block, dtype=np.uint8)
            quotes = np.flatnonzero(data == _QUOTE)
            breaks = np.flatnonzero(data == _NEWLINE)
            if not len(breaks):
                inside_quotes ^= bool(len(quotes) % 2)
                continue
            odd = (np.searchsorted(quotes, breaks) % 2).astype(np.bool_) ^ inside_quotes
            if odd.any():
                ends: npt.NDArray[np.int64] = np.cumsum(~odd, dtype=np.int64) - (~odd)
                # ``ends``: separators before each break in this block; + 1 is the record
                # that a quoted break belongs to.
                found.append(np.asarray(separators + ends[odd] + 1, dtype=np.int64))
            separators += int((~odd).sum())
            inside_quotes ^= bool(len(quotes) % 2)
    if not found:
        return RecordLines()
    records, extra = np.unique(np.concatenate(found), return_counts=True)
    return RecordLines(records.astype(np.int64), extra.astype(np.int64))

"""Vectorised decoding of imported text columns: timestamps, values, quality, paths.

Each decoder turns one Arrow string column into a typed numpy column and marks
rows it cannot decode in a shared ``Checker`` (first reason wins). The fast
path is one Arrow cast per chunk; a chunk that holds bad cells finds them with
a few more vectorised casts, and only the bad cells themselves are tried one by one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from omp.core.errors import TimeFormatError
from omp.core.quality import Quality
from omp.core.rejects import RejectReason
from omp.core.time import parse_rfc3339
from omp.ingest.validate import Checker

UTC_US = pa.timestamp("us", tz="UTC")
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(nan|inf|infinity)$"
_DATE_TIME = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?"
_OFFSET = r"([Zz]|[+-]\d{2}:?\d{2})$"
_LONG_FRACTION = r"(:\d{2}\.\d{6})\d+"
_QUALITY_CODES: dict[str, int] = {q.label: int(q) for q in Quality} | {
    str(int(q)): int(q) for q in Quality
}

StringColumn: TypeAlias = "pa.Array | pa.ChunkedArray"


def _strings(column: StringColumn) -> pa.Array:
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    return pc.utf8_trim_whitespace(pc.cast(array, pa.string()))


def _bool(mask: pa.Array) -> npt.NDArray[np.bool_]:
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=np.bool_)


def decode_ts(column: StringColumn, checker: Checker) -> npt.NDArray[np.int64]:
    """RFC 3339 with an offset -> microseconds; naive and malformed cells are marked.

    A Parquet timestamp column is taken as is when it has a time zone; without
    one every row is naive.
    """
    if pa.types.is_timestamp(column.type):
        if column.type.tz is None:
            checker.mark(np.ones(len(column), dtype=np.bool_), RejectReason.NAIVE_TIMESTAMP)
        return _int64(pc.cast(column, UTC_US), checker)
    text = _strings(column)
    try:
        parsed = pc.cast(text, UTC_US)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # Only now pay for the regex: sub-microsecond digits are one common cause.
        text = _to_microseconds(text)
        try:
            parsed = pc.cast(text, UTC_US)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return _decode_ts_slowly(text, checker)
    return _int64(parsed, checker)


def _to_microseconds(text: pa.Array) -> pa.Array:
    """Cut fractions of a second after the sixth digit (microseconds are what is stored).

    Arrow refuses ``...00.1234567Z`` outright; cutting (not rounding) keeps a
    point in the microsecond it happened in.
    """
    return pc.replace_substring_regex(text, _LONG_FRACTION, r"\1")


def _int64(ts: StringColumn, checker: Checker) -> npt.NDArray[np.int64]:
    as_int = pc.cast(ts, pa.int64())
    checker.mark(_bool(pc.is_null(as_int)), RejectReason.MALFORMED)
    return np.asarray(pc.fill_null(as_int, 0).to_numpy(zero_copy_only=False), dtype=np.int64)


def _decode_ts_slowly(text: pa.Array, checker: Checker) -> npt.NDArray[np.int64]:
    shaped = _bool(pc.match_substring_regex(text, _DATE_TIME))
    zoned = _bool(pc.match_substring_regex(text, _DATE_TIME + r".*" + _OFFSET))
    checker.mark(shaped & ~zoned, RejectReason.NAIVE_TIMESTAMP)
    ts = np.zeros(len(text), dtype=np.int64)
    bad = ~zoned
    _cast_rows(text, np.flatnonzero(zoned), ts, bad)
    checker.mark(bad, RejectReason.MALFORMED)
    return ts


def _cast_rows(
    text: pa.Array,
    rows: npt.NDArray[np.int64],
    ts: npt.NDArray[np.int64],
    bad: npt.NDArray[np.bool_],
) -> None:
    """Cast ``rows`` of ``text`` into ``ts`` in one go; if a cell fails, halve and retry.

    A zoned cell that still fails (month 13, hour 25) is rare: halving finds
    each one in about log2(rows) vectorised casts, and only that single cell
    is tried in Python, so a few bad cells never slow the whole chunk down.
    """
    if not len(rows):
        return
    try:
        subset = pc.cast(text.take(pa.array(rows)), UTC_US)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        if len(rows) == 1:
            _parse_one(text, int(rows[0]), ts, bad)
            return
        middle = len(rows) // 2
        _cast_rows(text, rows[:middle], ts, bad)
        _cast_rows(text, rows[middle:], ts, bad)
        return
    ts[rows] = pc.cast(subset, pa.int64()).to_numpy(zero_copy_only=False)


def _parse_one(
    text: pa.Array, row: int, ts: npt.NDArray[np.int64], bad: npt.NDArray[np.bool_]
) -> None:
    try:
        ts[row] = parse_rfc3339(str(text[row].as_py()))
    except TimeFormatError:
        bad[row] = True


def is_empty(column: StringColumn) -> npt.NDArray[np.bool_]:
    """Cells that hold nothing: null, or only whitespace."""
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return _bool(pc.is_null(column))
    return _bool(pc.or_kleene(pc.is_null(column), pc.equal(_strings(column), "")))


def decode_values(
    column: StringColumn, checker: Checker
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Numbers (and ``true``/``false``) -> float64, plus a mask of cells that are not numbers.

    Empty cells are marked malformed (no value); cells that hold text are not
    marked here, because they are valid for text signals.
    """
    empty = is_empty(column)
    checker.mark(empty, RejectReason.MALFORMED)
    if pa.types.is_floating(column.type) or pa.types.is_integer(column.type):
        values = pc.fill_null(pc.cast(column, pa.float64()), 0.0).to_numpy(zero_copy_only=False)
        return np.asarray(values, dtype=np.float64), np.zeros(len(column), dtype=np.bool_)
    if pa.types.is_boolean(column.type):
        values = pc.fill_null(pc.cast(column, pa.float64()), 0.0).to_numpy(zero_copy_only=False)
        return np.asarray(values, dtype=np.float64), np.zeros(len(column), dtype=np.bool_)
    text = _strings(column)
    lowered = pc.utf8_lower(text)
    is_true, is_false = _bool(pc.equal(lowered, "true")), _bool(pc.equal(lowered, "false"))
    numeric = _bool(pc.match_substring_regex(text, _NUMBER, ignore_case=True))
    cleaned = pc.if_else(pa.array(numeric), text, pa.scalar(None, pa.string()))
    values = pc.fill_null(pc.cast(cleaned, pa.float64()), 0.0).to_numpy(zero_copy_only=False)
    values = np.array(values, dtype=np.float64)  # a writable copy: booleans are set below
    values[is_true] = 1.0
    values[is_false] = 0.0
    return values, ~(numeric | is_true | is_false | empty)


def decode_quality(
    column: StringColumn | None, rows: int, checker: Checker
) -> npt.NDArray[np.uint8]:
    """``good``/``uncertain``/``bad`` or 0/1/2 -> codes; empty means good, others are malformed."""
    if column is None:
        return np.zeros(rows, dtype=np.uint8)
    text = pc.utf8_lower(_strings(column))
    encoded = pc.dictionary_encode(text)
    labels = encoded.dictionary.to_pylist()
    codes = np.array(
        [_QUALITY_CODES.get(label, 0) if label else 0 for label in labels] + [0], dtype=np.uint8
    )
    known = np.array(
        [(not label) or label in _QUALITY_CODES for label in labels] + [True], dtype=np.bool_
    )
    index = np.asarray(pc.fill_null(encoded.indices, len(labels)).to_numpy(), dtype=np.int64)
    checker.mark(~known[index], RejectReason.MALFORMED)
    return codes[index]


def decode_paths(
    column: StringColumn, ids: Mapping[str, int]
) -> tuple[npt.NDArray[np.int32], pa.Array]:
    """Paths -> signal ids (-1 for unknown paths), and the paths themselves for reports.

    Each distinct path is looked up once; rows are resolved by indexing.
    """
    text = _strings(column)
    encoded = pc.dictionary_encode(text)
    lookup = np.array(
        [ids.get(path, -1) for path in encoded.dictionary.to_pylist()] + [-1], dtype=np.int32
    )
    index = np.asarray(
        pc.fill_null(encoded.indices, len(encoded.dictionary)).to_numpy(), dtype=np.int64
    )
    return lookup[index], text

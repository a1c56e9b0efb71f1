"""PostgreSQL binary COPY streams built from numpy columns, one buffer per batch.

The binary COPY format is a fixed 19-byte header, then per row an int16 field
count and per field an int32 length followed by the big-endian payload, then
an int16 ``-1`` trailer. With fixed-width columns every row has the same
layout, so a whole batch is one structured numpy array written in a few
vectorised assignments: no Python object per point.

>>> stream = encode_copy([(PgType.INT4, np.array([7], dtype=np.int32))])
>>> bytes(stream[:11]), len(stream)
(b'PGCOPY\\n\\xff\\r\\n\\x00', 31)
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

import numpy as np
import numpy.typing as npt

from omp.core.errors import HistorianError

HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"

PG_EPOCH_OFFSET_US = 946_684_800_000_000
"""Microseconds from 1970-01-01 (omp's epoch) to 2000-01-01 (PostgreSQL's)."""

TS_MIN_US = -210_866_803_200_000_000
"""The earliest instant timestamptz stores (4714-11-24 BC) in Unix microseconds.

Its upper bound (294276 AD) lies beyond any int64 Unix microsecond value
once shifted to PostgreSQL's epoch, so only the lower bound needs a check.
"""


class PgType(Enum):
    """Fixed-width column types the encoder writes, with their wire dtype."""

    # Values are (type name, wire dtype); the name keeps int8 and timestamptz distinct members.
    INT2 = ("int2", ">i2")
    INT4 = ("int4", ">i4")
    INT8 = ("int8", ">i8")
    FLOAT8 = ("float8", ">f8")
    TIMESTAMPTZ = ("timestamptz", ">i8")
    """Given as Unix microseconds; written as microseconds since 2000-01-01."""

    @property
    def wire(self) -> str:
        """The big-endian numpy dtype of the payload."""
        return self.value[1]

    @property
    def width(self) -> int:
        return np.dtype(self.wire).itemsize


Column = tuple[PgType, npt.NDArray[np.generic]]


def row_dtype(types: Sequence[PgType]) -> np.dtype[np.void]:
    """The packed layout of one row: field count, then (length, payload) per field."""
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for index, pg_type in enumerate(types):
        fields += [(f"len{index}", ">i4"), (f"val{index}", pg_type.wire)]
    return np.dtype(fields)


def encode_copy(columns: Sequence[Column]) -> memoryview:
    """The complete binary COPY stream (header, rows, trailer) for aligned columns.

    Raises ``HistorianError`` naming the row when a timestamp is outside the
    range PostgreSQL can store, or when the columns differ in length.
    """
    rows = len(columns[0][1]) if columns else 0
    for _, values in columns:
        if len(values) != rows:
            raise HistorianError(f"COPY columns differ in length: {len(values)} != {rows}")
    dtype = row_dtype([pg_type for pg_type, _ in columns])
    buffer = np.empty(len(HEADER) + rows * dtype.itemsize + len(TRAILER), dtype=np.uint8)
    buffer[: len(HEADER)] = np.frombuffer(HEADER, dtype=np.uint8)
    buffer[len(buffer) - len(TRAILER) :] = np.frombuffer(TRAILER, dtype=np.uint8)
    body = buffer[len(HEADER) : len(buffer) - len(TRAILER)].view(dtype)
    body["count"] = len(columns)
    for index, (pg_type, values) in enumerate(columns):
        body[f"len{index}"] = pg_type.width
        body[f"val{index}"] = _wire_values(pg_type, values)
    return memoryview(buffer.data)


def _wire_values(pg_type: PgType, values: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    if pg_type is not PgType.TIMESTAMPTZ:
        return values
    ts = np.asarray(values, dtype=np.int64)
    if len(ts):
        bad = np.flatnonzero(ts < TS_MIN_US)
        if len(bad):
            row = int(bad[0])
            raise HistorianError(
                f"timestamp {int(ts[row])} us (row {row}) is outside the range "
                "PostgreSQL timestamptz can store"
            )
    return ts - PG_EPOCH_OFFSET_US


def decode_copy(
    data: bytes | bytearray | memoryview, types: Sequence[PgType]
) -> list[npt.NDArray[np.generic]]:
    """Columns of a binary COPY stream whose fields are all fixed-width and non-null.

    The inverse of ``encode_copy``: timestamptz comes back as Unix
    microseconds, every other column in its native-endian dtype. Raises
    ``HistorianError`` when the stream does not have that shape (for example
    a NULL field), rather than returning misread numbers.
    """
    raw = np.frombuffer(data, dtype=np.uint8)
    if len(raw) < len(HEADER) + len(TRAILER) or bytes(raw[: len(HEADER)]) != HEADER:
        raise HistorianError("COPY result is not a PostgreSQL binary stream")
    dtype = row_dtype(types)
    body = raw[len(HEADER) : len(raw) - len(TRAILER)]
    if len(body) % dtype.itemsize:
        raise HistorianError("COPY result has variable-width rows (a NULL field?)")
    rows = body.view(dtype)
    expected = [pg_type.width for pg_type in types]
    for index, width in enumerate(expected):
        if len(rows) and not np.all(rows[f"len{index}"] == width):
            raise HistorianError(f"COPY result column {index} is not {width} bytes wide")
    columns: list[npt.NDArray[np.generic]] = []
    for index, pg_type in enumerate(types):
        values = rows[f"val{index}"].astype(np.dtype(pg_type.wire).newbyteorder("="))
        if pg_type is PgType.TIMESTAMPTZ:
            values = values + PG_EPOCH_OFFSET_US
        columns.append(values)
    return columns

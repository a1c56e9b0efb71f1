"""The numpy binary COPY encoder against a byte-by-byte reference built with ``struct``."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from omp.core.errors import HistorianError
from omp.historian.backends.postgres.copy_binary import (
    HEADER,
    PG_EPOCH_OFFSET_US,
    TRAILER,
    TS_MIN_US,
    PgType,
    decode_copy,
    encode_copy,
)


def _reference(rows: list[tuple[int, int, float, int]]) -> bytes:
    """The COPY stream written the slow, obvious way: one struct.pack per field."""
    out = bytearray(b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0))
    for sid, ts, value, quality in rows:
        out += struct.pack(">h", 4)
        out += struct.pack(">iq", 8, ts - PG_EPOCH_OFFSET_US)
        out += struct.pack(">id", 8, value)
        out += struct.pack(">ii", 4, sid)
        out += struct.pack(">ih", 2, quality)
    out += struct.pack(">h", -1)
    return bytes(out)


EDGE_ROWS = [
    (1, 0, 0.0, 0),
    (2**31 - 1, 1_767_225_600_000_123, -0.0, 2),
    (-5, -1, float("inf"), 255),
    (7, 253_402_300_799_999_999, -float("inf"), 1),
    (8, TS_MIN_US, 5e-324, 0),
    (9, 2**62, 1.7976931348623157e308, 0),
]


def _columns(rows: list[tuple[int, int, float, int]]) -> list[tuple[PgType, np.ndarray]]:
    sid, ts, value, quality = zip(*rows, strict=True)
    return [
        (PgType.TIMESTAMPTZ, np.array(ts, dtype=np.int64)),
        (PgType.FLOAT8, np.array(value, dtype=np.float64)),
        (PgType.INT4, np.array(sid, dtype=np.int32)),
        (PgType.INT2, np.array(quality, dtype=np.int16)),
    ]


def test_stream_matches_the_struct_reference_for_edge_values() -> None:
    assert bytes(encode_copy(_columns(EDGE_ROWS))) == _reference(EDGE_ROWS)


def test_nan_is_written_as_the_ieee_pattern() -> None:
    stream = bytes(encode_copy([(PgType.FLOAT8, np.array([np.nan]))]))
    payload = stream[len(HEADER) + 2 + 4 : len(HEADER) + 2 + 4 + 8]
    assert np.isnan(struct.unpack(">d", payload)[0])


def test_empty_batch_is_header_and_trailer_only() -> None:
    assert bytes(encode_copy([(PgType.INT4, np.array([], np.int32))])) == HEADER + TRAILER


def test_decode_inverts_encode() -> None:
    columns = _columns(EDGE_ROWS)
    decoded = decode_copy(encode_copy(columns), [pg_type for pg_type, _ in columns])
    for (_, original), back in zip(columns, decoded, strict=True):
        np.testing.assert_array_equal(back, original)


def test_timestamp_before_what_postgres_stores_names_the_row() -> None:
    ts = np.array([0, TS_MIN_US - 1], dtype=np.int64)
    with pytest.raises(HistorianError, match=r"row 1"):
        encode_copy([(PgType.TIMESTAMPTZ, ts)])


def test_columns_of_different_length_are_refused() -> None:
    with pytest.raises(HistorianError, match="differ in length"):
        encode_copy([(PgType.INT4, np.zeros(2, np.int32)), (PgType.INT8, np.zeros(3, np.int64))])


def test_decode_refuses_a_stream_with_a_null_field() -> None:
    one = bytes(encode_copy([(PgType.INT4, np.array([1], np.int32))]))
    with_null = one[: len(HEADER)] + struct.pack(">hi", 1, -1) + TRAILER
    with pytest.raises(HistorianError):
        decode_copy(with_null, [PgType.INT4])

from __future__ import annotations

import numpy as np
import pyarrow as pa

from omp.core.rejects import RejectReason
from omp.core.time import parse_rfc3339
from omp.ingest.validate import OK, Checker
from omp.runtime.importing.csvsource import _line_numbers
from omp.runtime.importing.decode import decode_paths, decode_quality, decode_ts, decode_values
from omp.runtime.importing.source import Layout, to_chunk


def _checker(n: int) -> Checker:
    return Checker(np.full(n, OK, dtype=np.uint8))


def _reasons(checker: Checker) -> list[str | None]:
    return [None if c == OK else RejectReason.from_code(int(c)).value for c in checker.reasons]


def test_timestamps_with_offsets_parse_in_one_cast() -> None:
    checker = _checker(2)
    ts = decode_ts(pa.array(["2026-01-01T00:00:00Z", "2026-01-01T02:00:00+02:00"]), checker)
    assert ts.tolist() == [parse_rfc3339("2026-01-01T00:00:00Z")] * 2
    assert checker.good.all()


def test_naive_and_malformed_timestamps_are_marked_per_row() -> None:
    checker = _checker(5)
    column = pa.array(
        ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00", "yesterday", None, "2026-13-01T00:00:00Z"]
    )
    ts = decode_ts(column, checker)
    assert _reasons(checker) == [None, "naive_timestamp", "malformed", "malformed", "malformed"]
    assert ts[0] == parse_rfc3339("2026-01-01T00:00:00Z")


def test_parquet_timestamps_without_zone_are_naive() -> None:
    checker = _checker(1)
    decode_ts(pa.array([0], pa.timestamp("us")), checker)
    assert _reasons(checker) == ["naive_timestamp"]
    checker = _checker(1)
    assert decode_ts(pa.array([5], pa.timestamp("ms", tz="UTC")), checker).tolist() == [5000]
    assert checker.good.all()


def test_values_numbers_booleans_text_and_empty() -> None:
    checker = _checker(6)
    values, not_number = decode_values(
        pa.array(["1.5", " 2 ", "true", "False", "P-7", ""]), checker
    )
    assert values[:4].tolist() == [1.5, 2.0, 1.0, 0.0]
    assert not_number.tolist() == [False, False, False, False, True, False]
    assert _reasons(checker) == [None, None, None, None, None, "malformed"]


def test_nan_spellings_are_numbers_so_ingest_can_reject_them() -> None:
    values, not_number = decode_values(pa.array(["nan", "inf"]), _checker(2))
    assert np.isnan(values[0])
    assert np.isinf(values[1])
    assert not not_number.any()


def test_quality_labels_codes_and_unknowns() -> None:
    checker = _checker(5)
    quality = decode_quality(pa.array(["good", "BAD", "1", "", "meh"]), 5, checker)
    assert quality.tolist()[:4] == [0, 2, 1, 0]
    assert _reasons(checker) == [None, None, None, None, "malformed"]


def test_paths_resolve_once_per_distinct_path() -> None:
    ids, _ = decode_paths(pa.array(["a", "b", "a", "zzz", None]), {"a": 1, "b": 2})
    assert ids.tolist() == [1, 2, 1, -1, -1]


def test_line_numbers_skip_malformed_records() -> None:
    # lines 3 and 5 were malformed; delivered records are lines 2, 4, 6, 7
    skipped = np.array([3, 5], dtype=np.int64)
    assert _line_numbers(0, 4, skipped).tolist() == [2, 4, 6, 7]
    assert _line_numbers(2, 2, skipped).tolist() == [6, 7]


def test_wide_rows_melt_into_points_and_skip_empty_cells() -> None:
    table = pa.table({"ts": ["t1", "t2"], "a/x": ["1", ""], "a/y": [None, "4"]})
    chunk = to_chunk(Layout.WIDE, table, np.array([2, 3], dtype=np.int64))
    assert chunk.path.to_pylist() == ["a/x", "a/y"]
    assert chunk.ts.to_pylist() == ["t1", "t2"]
    assert chunk.value.to_pylist() == ["1", "4"]
    assert chunk.position.tolist() == [2, 3]
    assert chunk.source_rows == 2


def test_fractions_beyond_microseconds_are_cut_to_six_digits() -> None:
    checker = _checker(3)
    column = pa.array(
        ["2026-01-01T00:00:00.1234567Z", "2026-01-01T00:00:00.9999999+00:00", "2026-01-01T00:00Z"]
    )
    ts = decode_ts(column, checker)
    base = parse_rfc3339("2026-01-01T00:00:00Z")
    assert ts.tolist() == [base + 123_456, base + 999_999, base]
    assert checker.good.all()


def test_a_few_bad_cells_in_a_large_chunk_are_found_and_the_rest_parse() -> None:
    n = 10_000
    base = parse_rfc3339("2026-01-01T00:00:00Z")
    cells = [f"2026-01-01T00:00:00.{i:06d}1Z" for i in range(n)]  # 7 digits throughout
    bad_rows = [0, 4_097, n - 1]
    for row in bad_rows:
        cells[row] = "2026-02-30T00:00:00Z"  # zoned and shaped, yet no such day
    cells[17] = "2026-01-01T00:00:00"  # naive
    checker = _checker(n)
    ts = decode_ts(pa.array(cells), checker)
    reasons = _reasons(checker)
    assert [i for i, r in enumerate(reasons) if r == "malformed"] == bad_rows
    assert [i for i, r in enumerate(reasons) if r == "naive_timestamp"] == [17]
    good = [i for i in range(n) if reasons[i] is None]
    assert len(good) == n - 4
    assert all(ts[i] == base + i for i in good)

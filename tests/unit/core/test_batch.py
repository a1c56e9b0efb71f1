from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from omp.core.batch import PointBatch, SourceBatch, TextBatch
from omp.core.errors import TimeFormatError
from omp.core.quality import Quality


def test_point_batch_coerces_arrow_and_lists() -> None:
    batch = PointBatch.of(pa.array([1, 2]), [10, 20], np.array([1, 2], dtype=np.int64))
    assert batch.signal_id.dtype == np.int32
    assert batch.value.dtype == np.float64
    assert list(batch.quality) == [Quality.GOOD, Quality.GOOD]


def test_length_mismatch_names_the_column() -> None:
    with pytest.raises(ValueError, match="'value' has 1 rows, expected 2"):
        PointBatch.of([1, 2], [1, 2], [1.0])


def test_take_with_mask_and_index() -> None:
    batch = TextBatch.of([1, 2, 3], [1, 2, 3], ["a", "b", "c"])
    assert batch.take(np.array([True, False, True])).value.to_pylist() == ["a", "c"]
    assert batch.take(np.array([1])).value.to_pylist() == ["b"]


def test_source_batch_checks_index_range() -> None:
    with pytest.raises(ValueError, match="outside the addresses"):
        SourceBatch.of("plc", ["a"], [0, 1], [1, 2], [1.0, 2.0])


def test_quality_parse() -> None:
    assert Quality.parse("Uncertain") is Quality.UNCERTAIN
    with pytest.raises(ValueError, match="'meh'"):
        Quality.parse("meh")


def test_aware_arrow_timestamps_of_any_unit_become_microseconds() -> None:
    noon = 1_796_040_000_000_000  # 2026-11-30T12:00:00Z
    millis = pa.array([noon // 1000], pa.timestamp("ms", tz="UTC"))
    nanos = pa.array([noon * 1000], pa.timestamp("ns", tz="Europe/Berlin"))
    assert PointBatch.of([1], millis, [1.0]).ts.tolist() == [noon]
    assert PointBatch.of([1], nanos, [1.0]).ts.tolist() == [noon]


def test_naive_timestamps_are_refused_not_guessed() -> None:
    with pytest.raises(TimeFormatError, match="naive"):
        PointBatch.of([1], pa.array([0], pa.timestamp("ms")), [1.0])
    with pytest.raises(TimeFormatError, match="datetime64"):
        PointBatch.of([1], np.array(["2026-01-01"], dtype="datetime64[s]"), [1.0])


def test_ids_that_would_wrap_or_are_fractions_are_refused() -> None:
    with pytest.raises(ValueError, match=r"'signal_id' has values outside int32"):
        PointBatch.of(np.array([2**32 + 5]), [1], [1.0])
    with pytest.raises(ValueError, match="'signal_id' must hold integers"):
        PointBatch.of([1.5], [1], [1.0])
    with pytest.raises(ValueError, match="'ts' must hold integers"):
        PointBatch.of([1], [1.5], [1.0])
    with pytest.raises(ValueError, match="'quality' has values outside uint8"):
        PointBatch.of([1], [1], [1.0], [300])

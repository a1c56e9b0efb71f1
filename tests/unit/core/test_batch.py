from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from omp.core.batch import PointBatch, SourceBatch, TextBatch
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

"""Columnar batches: the unit of flow from connectors to the historian.

Hot paths never build one Python object per point. A batch is a handful of
aligned arrays; numeric, boolean and state-code values share one float64
column, text values travel in a ``TextBatch``.

Two stages of a batch exist:

* ``SourceBatch``: what a connector saw, addressed by source address (the
  binding key) and still in the source's unit. Ingest resolves it.
* ``PointBatch`` / ``TextBatch``: resolved to signal ids, in the model's unit,
  validated. This is what the bus and the historian see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from omp.core.errors import TimeFormatError
from omp.core.quality import Quality

SIGNAL_ID_DTYPE = np.dtype(np.int32)
TS_DTYPE = np.dtype(np.int64)
VALUE_DTYPE = np.dtype(np.float64)
QUALITY_DTYPE = np.dtype(np.uint8)

SignalIds = npt.NDArray[np.int32]
Timestamps = npt.NDArray[np.int64]
Values = npt.NDArray[np.float64]
Qualities = npt.NDArray[np.uint8]


def _numpy(array: object, name: str) -> npt.NDArray[Any]:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if isinstance(array, pa.Array):
        if pa.types.is_timestamp(array.type) or pa.types.is_date(array.type):
            raise ValueError(f"batch column {name!r} holds timestamps; it needs numbers")
        array = array.to_numpy(zero_copy_only=False)
    result = np.asarray(array)
    if result.ndim != 1:
        raise ValueError(f"batch column {name!r} must be one-dimensional, got shape {result.shape}")
    return result


def _as(array: object, dtype: np.dtype[Any], name: str) -> npt.NDArray[Any]:
    """A contiguous column of ``dtype``; integer targets refuse fractions and out-of-range values.

    A plain cast would wrap 2**32 + 5 to 5 and so file a point under the wrong
    signal; here that is an error naming the column.
    """
    result = _numpy(array, name)
    if dtype.kind in "iu" and result.size:
        if result.dtype.kind not in "iu":
            raise ValueError(f"batch column {name!r} must hold integers, got {result.dtype}")
        info = np.iinfo(dtype)
        low, high = int(result.min()), int(result.max())
        if low < info.min or high > info.max:
            raise ValueError(f"batch column {name!r} has values outside {dtype} ({low}..{high})")
    elif dtype.kind == "f" and result.dtype.kind not in "fiub" and result.size:
        raise ValueError(f"batch column {name!r} must hold numbers, got {result.dtype}")
    return np.ascontiguousarray(result, dtype=dtype)


def _timestamps(array: object, name: str = "ts") -> npt.NDArray[np.int64]:
    """Microseconds since the epoch from integers or an aware Arrow timestamp column.

    Arrow timestamps of any unit are converted; a naive one (no time zone) and
    numpy ``datetime64`` (which has none) are refused rather than guessed.
    """
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if isinstance(array, pa.Array) and pa.types.is_timestamp(array.type):
        if array.type.tz is None:
            raise TimeFormatError(
                f"batch column {name!r} holds naive timestamps; give them a time zone (UTC)"
            )
        micros = pc.cast(array, pa.timestamp("us", tz=array.type.tz), safe=False)
        return np.ascontiguousarray(pc.cast(micros, pa.int64()).to_numpy(zero_copy_only=False))
    raw = np.asarray(array)
    if raw.dtype.kind == "M":
        raise TimeFormatError(
            f"batch column {name!r} is numpy datetime64, which has no time zone; "
            "pass int64 microseconds UTC or an aware Arrow timestamp"
        )
    return _as(raw, TS_DTYPE, name)


def _check_lengths(n: int, **columns: int) -> None:
    for name, length in columns.items():
        if length != n:
            raise ValueError(f"batch column {name!r} has {length} rows, expected {n}")


def good_quality(n: int) -> Qualities:
    """A quality column of ``n`` good points."""
    return np.full(n, Quality.GOOD, dtype=QUALITY_DTYPE)


@dataclass(frozen=True, slots=True)
class PointBatch:
    """Numeric points resolved to signal ids: aligned columns, one row per point."""

    signal_id: SignalIds
    ts: Timestamps
    value: Values
    quality: Qualities

    @classmethod
    def of(
        cls,
        signal_id: object,
        ts: object,
        value: object,
        quality: object | None = None,
    ) -> PointBatch:
        """Build a batch from array-likes (numpy, Arrow, lists), coercing dtypes."""
        sid = _as(signal_id, SIGNAL_ID_DTYPE, "signal_id")
        n = len(sid)
        tsa = _timestamps(ts)
        val = _as(value, VALUE_DTYPE, "value")
        qual = good_quality(n) if quality is None else _as(quality, QUALITY_DTYPE, "quality")
        _check_lengths(n, ts=len(tsa), value=len(val), quality=len(qual))
        return cls(sid, tsa, val, qual)

    @classmethod
    def empty(cls) -> PointBatch:
        return cls.of([], [], [])

    def __len__(self) -> int:
        return len(self.signal_id)

    def take(self, index: npt.NDArray[np.intp] | npt.NDArray[np.bool_]) -> PointBatch:
        """The rows selected by an index array or a boolean mask."""
        return PointBatch(
            self.signal_id[index], self.ts[index], self.value[index], self.quality[index]
        )

    def to_arrow(self) -> pa.Table:
        return pa.table(
            {
                "signal_id": self.signal_id,
                "ts": self.ts,
                "value": self.value,
                "quality": self.quality,
            }
        )


@dataclass(frozen=True, slots=True)
class TextBatch:
    """Text points resolved to signal ids. ``value`` is an Arrow string array."""

    signal_id: SignalIds
    ts: Timestamps
    value: pa.Array
    quality: Qualities

    @classmethod
    def of(
        cls,
        signal_id: object,
        ts: object,
        value: Sequence[str] | pa.Array,
        quality: object | None = None,
    ) -> TextBatch:
        sid = _as(signal_id, SIGNAL_ID_DTYPE, "signal_id")
        n = len(sid)
        tsa = _timestamps(ts)
        text = value if isinstance(value, pa.Array) else pa.array(value, type=pa.string())
        if not pa.types.is_string(text.type) and not pa.types.is_large_string(text.type):
            raise ValueError(f"text batch values must be strings, got {text.type}")
        qual = good_quality(n) if quality is None else _as(quality, QUALITY_DTYPE, "quality")
        _check_lengths(n, ts=len(tsa), value=len(text), quality=len(qual))
        return cls(sid, tsa, text, qual)

    def __len__(self) -> int:
        return len(self.signal_id)

    def take(self, index: npt.NDArray[np.intp] | npt.NDArray[np.bool_]) -> TextBatch:
        positions = np.flatnonzero(index) if index.dtype == np.bool_ else index
        return TextBatch(
            self.signal_id[positions],
            self.ts[positions],
            self.value.take(pa.array(positions, type=pa.int64())),
            self.quality[positions],
        )

    def to_arrow(self) -> pa.Table:
        return pa.table(
            {
                "signal_id": self.signal_id,
                "ts": self.ts,
                "value": self.value,
                "quality": self.quality,
            }
        )


@dataclass(frozen=True, slots=True)
class SourceBatch:
    """What a connector read, before ingest resolves it.

    ``addresses`` lists each distinct source address once; ``address_index``
    says, per point, which of them the point came from. That keeps strings out
    of the per-point columns. ``units`` optionally gives, per address, the unit
    the source reported (UCUM); ingest converts to the model's unit.
    ``value`` is float64, or an Arrow string array for text sources.
    """

    connector: str
    addresses: tuple[str, ...]
    address_index: npt.NDArray[np.int32]
    ts: Timestamps
    value: Values | pa.Array
    quality: Qualities
    units: tuple[str | None, ...] | None = None

    @classmethod
    def of(
        cls,
        connector: str,
        addresses: Sequence[str],
        address_index: object,
        ts: object,
        value: object,
        quality: object | None = None,
        *,
        units: Sequence[str | None] | None = None,
    ) -> SourceBatch:
        idx = _as(address_index, SIGNAL_ID_DTYPE, "address_index")
        n = len(idx)
        tsa = _timestamps(ts)
        val: Values | pa.Array
        if isinstance(value, pa.Array) and (
            pa.types.is_string(value.type) or pa.types.is_large_string(value.type)
        ):
            val = value
        else:
            val = _as(value, VALUE_DTYPE, "value")
        qual = good_quality(n) if quality is None else _as(quality, QUALITY_DTYPE, "quality")
        _check_lengths(n, ts=len(tsa), value=len(val), quality=len(qual))
        if n and (idx.min() < 0 or idx.max() >= len(addresses)):
            raise ValueError("address_index points outside the addresses tuple")
        unit_tuple = None if units is None else tuple(units)
        if unit_tuple is not None and len(unit_tuple) != len(addresses):
            raise ValueError("units must have one entry per address")
        return cls(connector, tuple(addresses), idx, tsa, val, qual, unit_tuple)

    def __len__(self) -> int:
        return len(self.address_index)

    @property
    def is_text(self) -> bool:
        return isinstance(self.value, pa.Array)

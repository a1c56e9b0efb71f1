"""Parquet import files: the schema is checked from the footer, rows read in batches."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from omp.runtime.importing.source import (
    PARQUET_BATCH_ROWS,
    Chunk,
    ImportFileError,
    Layout,
    layout_of,
    open_parquet,
    to_chunk,
)


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        return _is_text(kind.value_type)
    return bool(
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)
    )


def _is_scalar_value(kind: pa.DataType) -> bool:
    return _is_text(kind) or bool(
        pa.types.is_floating(kind) or pa.types.is_integer(kind) or pa.types.is_boolean(kind)
    )


_ACCEPTS: dict[str, tuple[Callable[[pa.DataType], bool], str]] = {
    "path": (_is_text, "text (the signal path)"),
    "ts": (
        lambda kind: _is_text(kind) or pa.types.is_timestamp(kind),
        "RFC 3339 text or a timestamp with a time zone",
    ),
    "value": (_is_scalar_value, "a number, a boolean or text"),
    "quality": (lambda kind: _is_text(kind) or pa.types.is_integer(kind), "text or 0/1/2"),
    "text": (_is_text, "text"),
}
_SIGNAL_COLUMN = (_is_scalar_value, "a number, a boolean or text")


def check_types(file: Path, schema: pa.Schema) -> None:
    """``ImportFileError`` naming the file and the first column whose type cannot be imported.

    Read from the footer alone, so a file with nested or binary columns fails
    before anything is opened, instead of part-way through the import.
    """
    for column in schema:
        accepts, expected = _ACCEPTS.get(column.name, _SIGNAL_COLUMN)
        if not accepts(column.type):
            raise ImportFileError(
                f"{file}: column {column.name!r} has type {column.type}, "
                f"which cannot be imported; it must hold {expected}"
            )


@dataclass
class ParquetSource:
    file: Path
    layout: Layout
    handle: pq.ParquetFile
    total_rows: int
    position_label: str = "row"
    malformed_positions: npt.NDArray[np.int64] = field(
        default_factory=lambda: np.zeros(0, dtype=np.int64)
    )

    @classmethod
    def open(cls, file: Path) -> ParquetSource:
        handle = open_parquet(file)
        layout = layout_of(file, list(handle.schema_arrow.names))
        check_types(file, handle.schema_arrow)
        return cls(file, layout, handle, int(handle.metadata.num_rows))

    def chunks(self) -> Iterator[Chunk]:
        first = 1
        try:
            for batch in self.handle.iter_batches(batch_size=PARQUET_BATCH_ROWS):
                rows = np.arange(first, first + batch.num_rows, dtype=np.int64)
                first += batch.num_rows
                yield to_chunk(self.layout, batch, rows)
        except (OSError, pa.ArrowException) as exc:
            raise ImportFileError(f"{self.file}: unreadable at row {first}: {exc}") from None

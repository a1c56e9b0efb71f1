"""Parquet import files: the schema is checked from the footer, rows read in batches."""

from __future__ import annotations

from collections.abc import Iterator
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

"""CSV import files: checked in one streaming pass, then read in blocks.

All columns are read as text, so no cell can make Arrow fail the whole file;
the importer decodes and validates cells itself. A record with the wrong
number of cells is skipped by the parser and reported as malformed by its
line number. Positions are file lines even after quoted cells that span
lines (see ``csvlines``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv

from omp.runtime.importing.csvlines import RecordLines, record_lines
from omp.runtime.importing.source import (
    Chunk,
    ImportFileError,
    Layout,
    csv_header,
    csv_read_options,
    layout_of,
    to_chunk,
)


def _reader(file: Path, columns: list[str], bad_lines: list[int]) -> pacsv.CSVStreamingReader:
    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad_lines.append(int(row.number) if row.number is not None else -1)
        return "skip"

    return pacsv.open_csv(
        file,
        read_options=csv_read_options(columns),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in columns},
            strings_can_be_null=False,
        ),
    )


def _line_numbers(start: int, count: int, skipped: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Record numbers of delivered records ``start .. start+count`` (0-based).

    Record ``i`` is record ``i + 2`` plus the number of skipped records before
    it; ``skipped - arange - 2`` is, per skipped line, how many good records
    precede it, which ``searchsorted`` turns into that count.
    """
    index = np.arange(start, start + count, dtype=np.int64)
    before = skipped - np.arange(len(skipped), dtype=np.int64) - 2
    return index + 2 + np.searchsorted(before, index, side="right").astype(np.int64)


@dataclass
class CsvSource:
    file: Path
    layout: Layout
    columns: list[str]
    total_rows: int
    malformed_positions: npt.NDArray[np.int64]
    """File lines of records with the wrong number of cells."""
    skipped_records: npt.NDArray[np.int64]
    """The same records as Arrow numbers them (record numbers, the header is 1)."""
    lines: RecordLines
    position_label: str = "line"

    @classmethod
    def open(cls, file: Path) -> CsvSource:
        """Check the whole file (header, encoding, record structure) before any import."""
        columns = csv_header(file)
        layout = layout_of(file, columns)
        bad_records: list[int] = []
        rows = 0
        try:
            for batch in _reader(file, columns, bad_records):
                rows += batch.num_rows
            lines = record_lines(file)
        except (OSError, pa.ArrowException) as exc:
            raise ImportFileError(f"{file}: cannot be read as CSV: {exc}") from None
        skipped = np.array(sorted(bad_records), dtype=np.int64)
        return cls(file, layout, columns, rows, lines.of(skipped), skipped, lines)

    def chunks(self) -> Iterator[Chunk]:
        delivered = 0
        ignored: list[int] = []  # already collected by the checking pass
        try:
            for batch in _reader(self.file, self.columns, ignored):
                records = _line_numbers(delivered, batch.num_rows, self.skipped_records)
                delivered += batch.num_rows
                yield to_chunk(self.layout, batch, self.lines.of(records))
        except (OSError, pa.ArrowException) as exc:
            raise ImportFileError(f"{self.file}: changed while it was imported: {exc}") from None

"""Reading import files in chunks: CSV (streamed) and Parquet (row-group batches).

Two layouts are accepted, told apart by the header:

* **long**: columns ``path``, ``ts``, ``value`` and optionally ``quality`` and
  ``text``, one point per row (``omp export`` writes this layout: a text
  signal's value is in ``text``, and a row with an empty ``value`` takes it);
* **wide**: a ``ts`` column and one column per signal path; an empty cell
  means "no value at this time" and is skipped, not rejected.

Every chunk carries, per row, its position in the file for reports: the line
number for CSV (the header is line 1), the 1-based row number for Parquet.

``open_source`` checks everything that would make the whole file unusable
(unreadable, not CSV or Parquet, missing or unexpected columns, broken
encoding) before the first chunk is handed out, so an import either lands its
good rows or lands nothing.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from omp.core.errors import OmpError

CSV_BLOCK_BYTES = 8 << 20
PARQUET_BATCH_ROWS = 131_072
LONG_REQUIRED = ("path", "ts", "value")
LONG_OPTIONAL = ("quality", "text")


class ImportFileError(OmpError):
    """The import file as a whole cannot be used; nothing was imported."""


class Layout(StrEnum):
    LONG = "long"
    WIDE = "wide"


@dataclass(frozen=True, slots=True)
class Chunk:
    """Aligned columns of one slice of the file, in the long layout."""

    path: pa.Array
    ts: pa.Array
    value: pa.Array
    quality: pa.Array | None
    position: npt.NDArray[np.int64]
    source_rows: int
    """How many rows of the file this chunk covers (wide rows hold many points)."""

    def __len__(self) -> int:
        return len(self.position)


class ImportSource(Protocol):
    """A checked import file, ready to be read chunk by chunk."""

    file: Path
    layout: Layout
    total_rows: int
    position_label: str
    """``line`` (CSV) or ``row`` (Parquet): how positions are named in reports."""
    malformed_positions: npt.NDArray[np.int64]
    """Positions of records that could not be split into the header's columns."""

    def chunks(self) -> Iterator[Chunk]: ...


def layout_of(file: Path, columns: list[str]) -> Layout:
    """Decide the layout from the header; ``ImportFileError`` names what is wrong."""
    names = set(columns)
    if len(names) != len(columns):
        raise ImportFileError(f"{file}: the header repeats a column name")
    if "ts" not in names:
        raise ImportFileError(f"{file}: no 'ts' column (columns: {', '.join(columns)})")
    if "path" in names or "value" in names:
        missing = [c for c in LONG_REQUIRED if c not in names]
        if missing:
            raise ImportFileError(f"{file}: missing column {', '.join(map(repr, missing))}")
        extra = sorted(names - set(LONG_REQUIRED) - set(LONG_OPTIONAL))
        if extra:
            raise ImportFileError(
                f"{file}: unexpected column {', '.join(map(repr, extra))}; "
                "the long layout takes path, ts, value and optionally quality, text"
            )
        return Layout.LONG
    if len(columns) < 2:
        raise ImportFileError(f"{file}: only a 'ts' column; add path/value or signal columns")
    return Layout.WIDE


def _column(table: pa.Table | pa.RecordBatch, name: str) -> pa.Array:
    column = table.column(name)
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _melt(table: pa.Table | pa.RecordBatch, position: npt.NDArray[np.int64]) -> Chunk:
    """Turn ``ts`` + one column per path into long rows, skipping empty cells."""
    paths = [name for name in table.schema.names if name != "ts"]
    columns = [_column(table, name) for name in paths]
    numeric = all(pa.types.is_floating(c.type) or pa.types.is_integer(c.type) for c in columns)
    target = pa.float64() if numeric else pa.string()
    values = pa.concat_arrays([pc.cast(c, target) for c in columns])
    present = pc.is_valid(values)
    if not numeric:
        present = pc.and_(present, pc.not_equal(pc.utf8_trim_whitespace(values), ""))
    rows = len(position)
    path_index = np.repeat(np.arange(len(paths)), rows)
    ts = pa.concat_arrays([_column(table, "ts")] * len(paths))
    keep = np.asarray(present.to_numpy(zero_copy_only=False), dtype=np.bool_)
    chosen = pa.array(np.flatnonzero(keep))
    return Chunk(
        path=pa.array(paths, type=pa.string()).take(pa.array(path_index[keep])),
        ts=ts.take(chosen),
        value=values.take(chosen),
        quality=None,
        position=np.tile(position, len(paths))[keep],
        source_rows=rows,
    )


def _value_or_text(table: pa.Table | pa.RecordBatch) -> pa.Array:
    value = _column(table, "value")
    if "text" not in table.schema.names:
        return value
    text = pc.cast(_column(table, "text"), pa.string())
    if text.null_count == len(text) or not pc.any(pc.not_equal(text, "")).as_py():
        return value
    as_text = pc.cast(value, pa.string())
    empty = pc.or_kleene(pc.is_null(as_text), pc.equal(pc.utf8_trim_whitespace(as_text), ""))
    return pc.if_else(pc.fill_null(empty, True), text, as_text)


def _long(table: pa.Table | pa.RecordBatch, position: npt.NDArray[np.int64]) -> Chunk:
    names = table.schema.names
    return Chunk(
        path=_column(table, "path"),
        ts=_column(table, "ts"),
        value=_value_or_text(table),
        quality=_column(table, "quality") if "quality" in names else None,
        position=position,
        source_rows=len(position),
    )


def to_chunk(
    layout: Layout, table: pa.Table | pa.RecordBatch, position: npt.NDArray[np.int64]
) -> Chunk:
    """One slice of the file as a long chunk."""
    return _long(table, position) if layout is Layout.LONG else _melt(table, position)


def open_source(file: Path) -> ImportSource:
    """Open and check ``file`` by its suffix (``.csv``, ``.parquet``/``.pq``)."""
    from omp.runtime.importing.csvsource import CsvSource  # beside this module, kept apart
    from omp.runtime.importing.parquetsource import ParquetSource

    suffix = file.suffix.lower()
    if not file.is_file():
        raise ImportFileError(f"{file}: no such file")
    if suffix == ".csv":
        return CsvSource.open(file)
    if suffix in (".parquet", ".pq"):
        return ParquetSource.open(file)
    raise ImportFileError(f"{file}: unknown file type {suffix!r}; use .csv or .parquet")


def csv_header(file: Path) -> list[str]:
    """The column names in the first line of a CSV file."""
    try:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            return [name.strip() for name in next(csv.reader(handle), [])]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ImportFileError(f"{file}: cannot read the header: {exc}") from None


def csv_read_options(columns: list[str]) -> pacsv.ReadOptions:
    """Read the data records under ``columns``, the header's names as ``csv_header`` gives them.

    Naming the columns here (and skipping the header record) keeps one spelling
    of each name: a header ``path, ts, value`` has columns ``path``, ``ts``, ``value``.
    """
    # Single-threaded parsing is what makes Arrow report line numbers of bad records.
    return pacsv.ReadOptions(
        use_threads=False, block_size=CSV_BLOCK_BYTES, column_names=columns, skip_rows=1
    )


def open_parquet(file: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(file)
    except (OSError, pa.ArrowException) as exc:
        raise ImportFileError(f"{file}: not a readable Parquet file: {exc}") from None

"""Writing result tables to files and byte streams: CSV, Parquet, Arrow IPC.

Writers take pages one at a time, so an export of any size streams through
bounded memory. CSV spells timestamps as RFC 3339 (``...T...Z``), which
``omp import`` reads back unchanged.
"""

from __future__ import annotations

import io
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO, Protocol

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from omp.core.errors import OmpError

_RFC3339 = "%Y-%m-%dT%H:%M:%SZ"  # %S carries the microseconds for timestamp[us]


class OutputFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    PARQUET = "parquet"
    ARROW = "arrow"
    JSON = "json"


class TableWriter(Protocol):
    """Accepts pages of one schema; ``close`` finishes the file."""

    def write(self, table: pa.Table) -> None: ...

    def close(self) -> None: ...


def csv_ready(table: pa.Table) -> pa.Table:
    """The table with every timestamp column spelled as an RFC 3339 string."""
    for index, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            text = pc.strftime(table.column(index), format=_RFC3339)
            table = table.set_column(index, pa.field(field.name, pa.string()), text)
    return table


class CsvWriter:
    """CSV with a header row; timestamps in RFC 3339."""

    def __init__(self, sink: BinaryIO | str, schema: pa.Schema) -> None:
        self._writer = pacsv.CSVWriter(sink, csv_ready(schema.empty_table()).schema)

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(csv_ready(table))

    def close(self) -> None:
        self._writer.close()


class ParquetWriter:
    """Parquet (zstd), one row group per page."""

    def __init__(self, sink: BinaryIO | str, schema: pa.Schema) -> None:
        self._writer = pq.ParquetWriter(sink, schema, compression="zstd")

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(table)

    def close(self) -> None:
        self._writer.close()


class ArrowWriter:
    """The Arrow IPC stream format (``application/vnd.apache.arrow.stream``)."""

    def __init__(self, sink: BinaryIO | str, schema: pa.Schema) -> None:
        self._writer = ipc.new_stream(sink, schema)

    def write(self, table: pa.Table) -> None:
        self._writer.write_table(table)

    def close(self) -> None:
        self._writer.close()


_WRITERS: dict[OutputFormat, type[CsvWriter | ParquetWriter | ArrowWriter]] = {
    OutputFormat.CSV: CsvWriter,
    OutputFormat.PARQUET: ParquetWriter,
    OutputFormat.ARROW: ArrowWriter,
}


def open_writer(fmt: OutputFormat, sink: BinaryIO | Path, schema: pa.Schema) -> TableWriter:
    """A writer of ``fmt`` to a file path or a binary stream; ``OmpError`` naming the file."""
    kind = _WRITERS.get(fmt)
    if kind is None:
        raise OmpError(f"format {fmt.value!r} cannot be written to a file")
    try:
        return kind(str(sink) if isinstance(sink, Path) else sink, schema)
    except OSError as exc:
        raise OmpError(f"cannot write {sink}: {exc}") from None


def to_bytes(fmt: OutputFormat, table: pa.Table) -> bytes:
    """A whole table in ``fmt`` as bytes (for HTTP responses)."""
    buffer = io.BytesIO()
    writer = open_writer(fmt, buffer, table.schema)
    writer.write(table)
    writer.close()
    return buffer.getvalue()

"""Writing result tables to files and byte streams: CSV, Parquet, Arrow IPC.

Writers take pages one at a time, so an export of any size streams through
bounded memory. CSV spells timestamps as RFC 3339 (``...T...Z``), which
``omp import`` reads back unchanged.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO, Protocol

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


class _TableFile:
    """One output file: pages in, errors out as ``OmpError`` naming the target.

    ``engine`` is an Arrow writer (CSV, Parquet or IPC: all have ``write_table``
    and ``close``); ``prepare`` adapts each page to it.
    """

    def __init__(self, target: str, engine: Any, prepare: Callable[[pa.Table], pa.Table]) -> None:
        self._target = target
        self._engine = engine
        self._prepare = prepare

    def write(self, table: pa.Table) -> None:
        try:
            self._engine.write_table(self._prepare(table))
        except BrokenPipeError:
            raise  # the reader went away (`| head`): not an error of ours, the caller decides
        except OSError as exc:  # a full disk mid-export
            raise OmpError(f"cannot write {self._target}: {exc}") from None

    def close(self) -> None:
        try:
            self._engine.close()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OmpError(f"cannot write {self._target}: {exc}") from None


def _unchanged(table: pa.Table) -> pa.Table:
    return table


def _engine(fmt: OutputFormat, sink: BinaryIO | str, schema: pa.Schema) -> Any:
    if fmt is OutputFormat.CSV:
        return pacsv.CSVWriter(sink, csv_ready(schema.empty_table()).schema)
    if fmt is OutputFormat.PARQUET:
        return pq.ParquetWriter(sink, schema, compression="zstd")  # one row group per page
    if fmt is OutputFormat.ARROW:
        return ipc.new_stream(sink, schema)
    raise OmpError(f"format {fmt.value!r} cannot be written to a file")


def open_writer(fmt: OutputFormat, sink: BinaryIO | Path, schema: pa.Schema) -> TableWriter:
    """A writer of ``fmt`` to a file path or a binary stream; ``OmpError`` naming the file.

    CSV spells timestamps as RFC 3339; Parquet is zstd-compressed; Arrow is the
    IPC stream format (``application/vnd.apache.arrow.stream``).
    """
    target = str(sink) if isinstance(sink, Path) else sink
    try:
        engine = _engine(fmt, target, schema)
    except OSError as exc:
        raise OmpError(f"cannot write {sink}: {exc}") from None
    prepare = csv_ready if fmt is OutputFormat.CSV else _unchanged
    return _TableFile(str(sink), engine, prepare)


def to_bytes(fmt: OutputFormat, table: pa.Table) -> bytes:
    """A whole table in ``fmt`` as bytes (for HTTP responses)."""
    buffer = io.BytesIO()
    writer = open_writer(fmt, buffer, table.schema)
    writer.write(table)
    writer.close()
    return buffer.getvalue()

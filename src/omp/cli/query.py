"""``omp query`` and ``omp export``: read history by path or glob, either way (see readers)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, BinaryIO

import pyarrow as pa
import typer
from rich.table import Table

from omp.cli._output import err, fail, guarded, out
from omp.cli.options import ApiOpt, ConfigOpt, DataDirOpt, HistorianOpt, ModelOpt, settings_from
from omp.cli.readers import Reader, open_reader
from omp.core.time import Micros, parse_duration, system_clock
from omp.runtime.formats import OutputFormat, TableWriter, csv_ready, open_writer
from omp.runtime.outfile import refuse_clobber, replacing
from omp.runtime.query import QueryError
from omp.runtime.settings import HistorianKind, Settings
from omp.runtime.timerange import parse_range


class QueryFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    PARQUET = "parquet"


class ExportFormat(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"


TABLE_LIMIT = 1_000
"""Rows ``--format table`` shows unless ``--limit`` says otherwise."""
PAGE = 100_000

FromOpt = Annotated[str, typer.Option("--from", help="Start: RFC 3339, or relative (-2h).")]
ToOpt = Annotated[str, typer.Option("--to", help="End (exclusive): RFC 3339, relative, now.")]
PatternArg = Annotated[
    str, typer.Argument(help="A signal path or glob (* within a level, ** across levels).")
]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")]


def _range(start: str, end: str) -> tuple[Micros, Micros]:
    return parse_range(start, end, now=system_clock(), names=("--from", "--to"))


def _limited(pages: Iterator[pa.Table], limit: int | None) -> Iterator[pa.Table]:
    left = limit
    for page in pages:
        if left is not None:
            page = page.slice(0, left)
            left -= page.num_rows
        if page.num_rows:
            yield page
        if left is not None and left <= 0:
            return


def _print_table(tables: Iterator[pa.Table], limit: int) -> None:
    """A Rich table of at most ``limit`` rows; the pages hold one more to tell if there is more."""
    pages = [page for page in tables if page.num_rows]
    if not pages:
        err.print("no points in this range")
        return
    whole = csv_ready(pa.concat_tables(pages))
    more = whole.num_rows > limit
    whole = whole.slice(0, limit)
    # `value` or `text` may be empty throughout (numeric or text signals only): leave it out.
    kept = [
        name
        for name in whole.column_names
        if name not in ("value", "text") or whole.column(name).null_count < whole.num_rows
    ]
    grid = Table(*kept)
    for column in grid.columns:
        column.overflow = "fold"  # a truncated path or time is useless
    for row in whole.select(kept).to_pylist():
        grid.add_row(*("" if v is None else str(v) for v in row.values()))
    out.print(grid)
    if more:
        err.print(f"showing the first {limit} rows; raise --limit or use --format csv")


def _write(tables: Iterator[pa.Table], fmt: OutputFormat, output: Path | None) -> int:
    """Write every page to ``output`` (replaced only on success) or stdout; the row count."""
    if output is None:
        return _write_to(tables, fmt, sys.stdout.buffer)
    with replacing(output) as scratch:
        return _write_to(tables, fmt, scratch)


def _write_to(tables: Iterator[pa.Table], fmt: OutputFormat, target: BinaryIO | Path) -> int:
    rows = 0
    writer: TableWriter | None = None
    try:
        for page in tables:
            if writer is None:
                writer = open_writer(fmt, target, page.schema)
            writer.write(page)
            rows += page.num_rows
    except BaseException:
        if writer is not None:
            _close_quietly(writer)
        raise
    if writer is not None:
        writer.close()
    return rows


def _close_quietly(writer: TableWriter) -> None:
    # The first error is the one to report; the file is discarded anyway.
    try:
        writer.close()
    except Exception:  # a second failure of a file being thrown away
        return


def _check_output(output: Path | None, settings: Settings) -> None:
    if output is not None and settings.historian_kind is HistorianKind.DUCKDB:
        protected = {"the historian": settings.duckdb_path}
        refuse_clobber(output, option="--output", protected=protected)


def _emit(tables: Iterator[pa.Table], fmt: OutputFormat, output: Path | None, limit: int) -> None:
    if fmt is OutputFormat.TABLE:
        _print_table(tables, limit)
        return
    if fmt is OutputFormat.PARQUET and output is None and sys.stdout.isatty():
        raise fail("Parquet is binary: pass --output FILE (or redirect stdout)")
    rows = _write(tables, fmt, output)
    if output is not None:
        err.print(f"wrote {rows} rows to {output}", highlight=False)


def _tables(
    reader: Reader,
    pattern: str,
    *,
    span: tuple[Micros, Micros],
    every: str | None,
    agg: str | None,
    limit: int | None,
) -> Iterator[pa.Table]:
    start, end = span
    if every is None:
        if agg is not None:
            raise QueryError("--agg needs --every (the bucket width, e.g. --every 1m)")
        page = min(PAGE, limit) if limit is not None else PAGE
        return _limited(reader.raw_pages(pattern, start=start, end=end, page=page), limit)
    width = parse_duration(every)
    table = reader.buckets(pattern, start=start, end=end, every=width, agg=agg or "avg")
    return _limited(iter([table]), limit)


@guarded
def query(
    pattern: PatternArg,
    start: FromOpt = "-1h",
    end: ToOpt = "now",
    every: Annotated[str | None, typer.Option(help="Bucket width, e.g. 1m, 1h.")] = None,
    agg: Annotated[
        str | None,
        typer.Option(help="With --every: avg,min,max,twa,..., or time_in_state (state signals)."),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many rows.")] = None,
    form: Annotated[QueryFormat, typer.Option("--format")] = QueryFormat.TABLE,
    output: OutputOpt = None,
    data_dir: DataDirOpt = None,
    historian: HistorianOpt = None,
    model: ModelOpt = None,
    api: ApiOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Raw points or time-bucket aggregates of a path or glob."""
    fmt = OutputFormat(form.value)
    if limit is None and fmt is OutputFormat.TABLE:
        limit = TABLE_LIMIT
    settings = settings_from(config=config, data_dir=data_dir, historian=historian)
    _check_output(output, settings)
    span = _range(start, end)
    with open_reader(settings, api=api, model=model) as reader:
        # A table shows `limit` rows and fetches one more, to say whether there are more.
        fetch = limit + 1 if limit is not None and fmt is OutputFormat.TABLE else limit
        tables = _tables(reader, pattern, span=span, every=every, agg=agg, limit=fetch)
        _emit(tables, fmt, output, limit or 0)


@guarded
def export(
    pattern: PatternArg,
    start: FromOpt,
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write.")],
    end: ToOpt = "now",
    form: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.PARQUET,
    data_dir: DataDirOpt = None,
    historian: HistorianOpt = None,
    model: ModelOpt = None,
    api: ApiOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Raw points of a path or glob to a CSV or Parquet file, paged through the historian."""
    fmt = OutputFormat(form.value)
    settings = settings_from(config=config, data_dir=data_dir, historian=historian)
    _check_output(output, settings)
    span = _range(start, end)
    with open_reader(settings, api=api, model=model) as reader:
        # Every page, even an empty one, so an empty range still writes a file with its header.
        pages = reader.raw_pages(pattern, start=span[0], end=span[1], page=PAGE)
        rows = _write(pages, fmt, output)
    err.print(f"exported {rows} points of {pattern!r} to {output}", highlight=False)

"""``omp import FILE``: bulk history from CSV or Parquet, through ingest.

The file is checked as a whole first (readable, right columns, every CSV
record well formed) so a broken file lands nothing. Then good rows land and
bad ones are reported: counts by reason and the first few with their line or
row number. Exit codes: 0 all landed, 3 good rows landed but some were
rejected, 1 nothing landed.

Import writes through this process's own ingest, so it refuses while an
``omp run`` instance uses the same data directory (DuckDB allows one writer,
and two writers would race on rollups); stop the instance first.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from omp.cli._output import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_PARTIAL, err, fail, guarded
from omp.cli.options import ConfigOpt, DataDirOpt, HistorianOpt, ModelOpt, settings_from
from omp.cli.remote import live_instance
from omp.runtime.formats import OutputFormat, TableWriter, open_writer
from omp.runtime.importing import (
    BadRow,
    ImportReport,
    ImportSource,
    SignalTable,
    import_source,
    open_source,
    rejects_schema,
)
from omp.runtime.instance import record_model, recorded_model
from omp.runtime.outfile import refuse_clobber
from omp.runtime.platform import Platform
from omp.runtime.settings import HistorianKind, Settings


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )


def _check_rejects_path(path: Path, *, file: Path, settings: Settings) -> None:
    protected = {"the file being imported": file}
    if settings.historian_kind is HistorianKind.DUCKDB:
        protected["the historian"] = settings.duckdb_path
    refuse_clobber(path, option="--rejects", protected=protected)


def _rejects_writer(path: Path, source: ImportSource) -> TableWriter:
    formats = {".csv": OutputFormat.CSV, ".parquet": OutputFormat.PARQUET}
    fmt = formats.get(path.suffix.lower())
    if fmt is None:
        raise fail(f"--rejects {path}: use a .csv or .parquet file name")
    return open_writer(fmt, path, rejects_schema(source.position_label))


_STOPPING = b"\nstopping after the current chunk (Ctrl-C again to stop at once) ...\n"


@contextmanager
def _first_ctrl_c_stops(stop: threading.Event) -> Iterator[None]:
    """The first Ctrl-C asks the import to stop after the chunk in hand; a second one
    interrupts at once (the importer still flushes and reports what landed)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set on the main thread
        return

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        # Raw write: Rich is not safe to re-enter from a signal handler (it may be mid-render).
        with suppress(OSError, ValueError):
            os.write(sys.stderr.fileno(), _STOPPING)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _run(platform: Platform, source: ImportSource, rejects: TableWriter | None) -> ImportReport:
    registry = platform.registry
    signals = SignalTable(
        ids=registry.ids, text_ids=frozenset(s.id for s in registry.signals if s.is_text)
    )
    stop = threading.Event()
    with _progress() as bar, _first_ctrl_c_stops(stop):
        task = bar.add_task("import", total=source.total_rows)
        return import_source(
            source,
            signals=signals,
            ingest=platform.ingest,
            flush=platform.historian.flush,
            progress=lambda rows: bar.advance(task, rows),
            rejects=rejects,
            stop=stop,
        )


def _print_interruption(report: ImportReport) -> None:
    label = report.position_label
    where = f"{label} {report.done_through}" if report.done_through else "the start"
    err.print(
        f"[bold red]interrupted:[/] {report.accepted} points landed, "
        f"every good point up to {where} of {escape(str(report.file))}",
        highlight=False,
    )
    if report.unsure_through:
        err.print(
            f"  {label}s {report.done_through + 1} to {report.unsure_through} may have landed "
            f"in part; nothing after {label} {report.unsure_through} landed",
            highlight=False,
        )
    else:
        err.print(f"  nothing after {where} landed", highlight=False)
    err.print(
        "  re-running the same import is safe: points already stored keep their first value",
        highlight=False,
    )


def _print_report(report: ImportReport) -> None:
    err.print(
        f"{report.file}: {report.points} points ({report.layout} layout), "
        f"{report.accepted} landed, {report.rejected_total} rejected",
        highlight=False,
    )
    if not report.rejected_total:
        return
    reasons = Table("reason", "points", title="rejected", title_justify="left")
    for reason, count in report.rejected.most_common():
        reasons.add_row(reason.value, str(count))
    err.print(reasons)
    label = report.position_label
    for bad in report.examples:
        line = f"  {label} {bad.position}: {bad.reason.value}: {_describe(bad)}"
        err.print(line, highlight=False, markup=False)
    if report.rejected_total > len(report.examples):
        err.print(f"  ... and {report.rejected_total - len(report.examples)} more", highlight=False)


def _describe(bad: BadRow) -> str:
    cells = [
        f"{name}={value!r}"
        for name, value in (("path", bad.path), ("ts", bad.ts), ("value", bad.value))
    ]
    return bad.detail or ", ".join(cells)


@guarded
def import_(
    file: Annotated[Path, typer.Argument(help="A .csv or .parquet file (long or wide layout).")],
    model: ModelOpt = None,
    data_dir: DataDirOpt = None,
    historian: HistorianOpt = None,
    rejects: Annotated[
        Path | None,
        typer.Option("--rejects", help="Write every rejected row to this .csv or .parquet file."),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Import history from CSV or Parquet: good rows land, bad rows are reported."""
    settings = settings_from(config=config, data_dir=data_dir, historian=historian)
    instance = live_instance(settings.data_dir)
    if instance is not None:
        raise fail(
            f"an omp instance (pid {instance.pid}, API {instance.api_url}) is running on "
            f"{settings.data_dir}; stop it, then import (one writer per historian)"
        )
    if rejects is not None:  # before anything opens the file that --rejects would truncate
        _check_rejects_path(rejects, file=file, settings=settings)
    try:
        source = open_source(file)  # a broken file fails here, before anything is opened
    except KeyboardInterrupt:
        raise fail(
            f"interrupted while checking {file}: nothing was imported", code=EXIT_INTERRUPTED
        ) from None
    model_file = model if model is not None else recorded_model(settings.data_dir)
    writer = _rejects_writer(rejects, source) if rejects is not None else None
    try:
        with Platform.open(settings, model_file=model_file, with_retention=False) as platform:
            record_model(settings.data_dir, model_file)
            report = _run(platform, source, writer)
    finally:
        if writer is not None:
            writer.close()
    _print_report(report)
    if rejects is not None:
        err.print(f"every rejected row is in {rejects}", highlight=False)
    if report.interrupted:
        _print_interruption(report)
        raise typer.Exit(EXIT_INTERRUPTED)
    if report.rejected_total and not report.accepted:
        raise typer.Exit(EXIT_FAILED)
    if report.rejected_total:
        raise typer.Exit(EXIT_PARTIAL)

"""The two ways of reading: through a running instance's API, or on the data directory.

DuckDB lets one process open a file for writing, so while ``omp run`` holds
the historian the CLI must go through its read API. ``open_reader`` picks the
way: ``--api`` if given, else the instance announced in
``<data_dir>/omp.instance.json``, else the historian directly (which needs the
model: ``--model`` or the one recorded by the last ``omp run``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from omp.cli._output import err
from omp.cli.remote import RemoteReader, live_instance
from omp.core.errors import HistorianUnavailableError, OmpError
from omp.core.time import Micros
from omp.runtime.historian_factory import HistorianPermissionError
from omp.runtime.instance import INSTANCE_FILE, recorded_model
from omp.runtime.platform import Platform
from omp.runtime.query import QueryService
from omp.runtime.settings import HistorianKind, Settings


class Reader(Protocol):
    """What ``omp query`` and ``omp export`` need, whichever way they read."""

    def raw_pages(
        self, pattern: str, *, start: Micros, end: Micros, page: int
    ) -> Iterator[pa.Table]: ...

    def buckets(
        self, pattern: str, *, start: Micros, end: Micros, every: Micros, agg: str
    ) -> pa.Table:
        """Aggregates (``avg,max``) or ``time_in_state`` per bucket."""
        ...


class LocalReader:
    """Reads the historian directly through a ``QueryService``."""

    def __init__(self, queries: QueryService) -> None:
        self._queries = queries

    def raw_pages(
        self, pattern: str, *, start: Micros, end: Micros, page: int
    ) -> Iterator[pa.Table]:
        cursor: str | None = None
        while True:
            result = self._queries.raw(pattern, start=start, end=end, limit=page, cursor=cursor)
            yield result.table
            if result.next_cursor is None:
                return
            cursor = result.next_cursor

    def buckets(
        self, pattern: str, *, start: Micros, end: Micros, every: Micros, agg: str
    ) -> pa.Table:
        return self._queries.buckets(pattern, start=start, end=end, every=every, agg=agg)


def _locked_message(settings: Settings, exc: OmpError) -> str:
    if settings.historian_kind is not HistorianKind.DUCKDB:
        return str(exc)
    return (
        f"{exc}\nno running omp instance announces a read API in "
        f"{settings.data_dir / INSTANCE_FILE}; if `omp run` is using this data directory, "
        "pass its API with --api http://127.0.0.1:PORT, otherwise stop the process "
        f"that holds {settings.duckdb_path}"
    )


@contextmanager
def open_reader(settings: Settings, *, api: str | None, model: Path | None) -> Iterator[Reader]:
    """The reader to use, opened; closed on exit."""
    url = api
    if url is None:
        instance = live_instance(settings.data_dir)
        url = instance.api_url if instance is not None else None
    if url is not None:
        if model is not None:
            err.print(f"note: --model is not used: reading through the instance at {url}")
        remote = RemoteReader(url)
        try:
            yield remote
        finally:
            remote.close()
        return
    if settings.historian_kind is HistorianKind.DUCKDB and not settings.duckdb_path.is_file():
        raise OmpError(
            f"no historian file {settings.duckdb_path}: nothing was stored in "
            f"{settings.data_dir} yet (check --data-dir, or run `omp run` / `omp import` first)"
        )
    model_file = model if model is not None else recorded_model(settings.data_dir)
    try:
        platform = Platform.open(
            settings, model_file=model_file, with_retention=False, read_only=True
        )
    except HistorianPermissionError:
        raise  # not a lock: the message names the file and the permission
    except HistorianUnavailableError as exc:
        raise HistorianUnavailableError(_locked_message(settings, exc)) from None
    with platform:
        _note_unknown(platform.unknown_signals, settings)
        yield LocalReader(platform.queries)


def _note_unknown(paths: tuple[str, ...], settings: Settings) -> None:
    if paths:
        err.print(
            f"note: {len(paths)} signals of the model were never stored in "
            f"{settings.historian_target} (e.g. {paths[0]}); they have no data",
            highlight=False,
            markup=False,
        )

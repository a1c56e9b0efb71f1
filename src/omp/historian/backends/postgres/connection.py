"""Connecting to PostgreSQL: URL masking, a fast connect timeout, error translation.

Every way a connection can fail becomes one ``HistorianUnavailableError``
naming the URL with its password masked; callers never see psycopg errors.
A tiny pool hands reader threads their own connection, because one psycopg
connection must not run statements from two threads at once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg

from omp.core.errors import HistorianUnavailableError

DEFAULT_CONNECT_TIMEOUT_S = 5


def mask_url(url: str) -> str:
    """The URL with any password replaced by ``***``, safe for logs and errors.

    >>> mask_url("postgresql://omp:secret@db:5432/plant")
    'postgresql://omp:***@db:5432/plant'
    """
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port is not None else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


def connect(
    url: str,
    *,
    autocommit: bool,
    connect_timeout_s: int = DEFAULT_CONNECT_TIMEOUT_S,
    application_name: str = "omp historian",
) -> psycopg.Connection[tuple[object, ...]]:
    """Open one connection, or raise ``HistorianUnavailableError`` naming the URL.

    ``application_name`` shows in ``pg_stat_activity``, so an operator can
    tell the writer from the readers.
    """
    try:
        return psycopg.connect(
            url,
            autocommit=autocommit,
            connect_timeout=connect_timeout_s,
            application_name=application_name[:63],
        )
    except (psycopg.Error, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HistorianUnavailableError(
            f"PostgreSQL historian at {mask_url(url)} is unreachable: {reason}"
        ) from None


class ReaderPool:
    """Autocommit connections for reads, at most one per concurrent reader.

    ``borrow`` hands out an idle connection or opens a new one; up to
    ``max_idle`` are kept for reuse. A connection that failed mid-statement is
    closed rather than returned, so the next reader starts clean.
    """

    def __init__(
        self, url: str, *, max_idle: int = 4, connect_timeout_s: int, application_name: str
    ) -> None:
        self._url = url
        self._application_name = application_name
        self._max_idle = max_idle
        self._timeout = connect_timeout_s
        self._idle: list[psycopg.Connection[tuple[object, ...]]] = []
        self._lock = threading.Lock()
        self._closed = False

    @contextmanager
    def borrow(self) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None or conn.closed:
            conn = connect(
                self._url,
                autocommit=True,
                connect_timeout_s=self._timeout,
                application_name=self._application_name,
            )
        try:
            yield conn
        except BaseException:
            conn.close()
            raise
        with self._lock:
            if self._closed or len(self._idle) >= self._max_idle:
                conn.close()
            else:
                self._idle.append(conn)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

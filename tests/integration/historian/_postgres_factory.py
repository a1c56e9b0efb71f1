"""Backend factory for the conformance suite: PostgreSQL, one fresh schema per test.

The server is the one ``.ci/run`` starts (``postgresql://postgres@127.0.0.1:5432/test``);
``OMP_TEST_POSTGRES_URL`` points the suite elsewhere. Each test gets a schema
with a unique name, so tests run in parallel without seeing each other, and
the schema is dropped afterwards even when the test fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

from omp.historian.backend import HistorianBackend

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def server_url() -> str:
    """The server the PostgreSQL tests use."""
    return os.environ.get("OMP_TEST_POSTGRES_URL", DEFAULT_URL)


def unique_schema(prefix: str = "omp_test") -> str:
    """A schema name no other test uses."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def drop_schema(url: str, schema: str) -> None:
    """Remove a test schema and everything in it."""
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@contextmanager
def make_backend(tmp_path: Path) -> Iterator[Callable[[], HistorianBackend]]:
    """Yield a callable that opens a backend on one fresh schema; drop it afterwards."""
    del tmp_path  # the store lives in the server, not on the local disk
    # Imported here so the shared conftest imports even while this backend is broken.
    from omp.historian.backends.postgres import PostgresBackend

    url = server_url()
    schema = unique_schema()

    def open_backend() -> HistorianBackend:
        return PostgresBackend.open(url, schema=schema)

    try:
        yield open_backend
    finally:
        drop_schema(url, schema)

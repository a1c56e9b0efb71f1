"""Fixtures for PostgreSQL-specific tests: a fresh schema per test, dropped afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psycopg
import pytest

from omp.historian.backends.postgres import PostgresBackend
from tests.integration.historian._postgres_factory import drop_schema, server_url, unique_schema


@dataclass(frozen=True)
class Store:
    """One test schema on the test server."""

    url: str
    schema: str

    def open(self, **options: object) -> PostgresBackend:
        return PostgresBackend.open(self.url, schema=self.schema, **options)  # type: ignore[arg-type]  # test pass-through

    def sql(self, text: str, params: tuple[object, ...] | None = None) -> list[tuple[object, ...]]:
        """Run one statement on a separate connection and return its rows."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            cur = conn.execute(text.replace("{s}", f'"{self.schema}"'), params)  # type: ignore[arg-type]  # test SQL
            return cur.fetchall() if cur.description else []


@pytest.fixture
def store() -> Iterator[Store]:
    schema = unique_schema("omp_pgtest")
    yield Store(server_url(), schema)
    drop_schema(server_url(), schema)


@pytest.fixture
def backend(store: Store) -> Iterator[PostgresBackend]:
    opened = store.open()
    yield opened
    opened.close()


Opener = Callable[..., PostgresBackend]

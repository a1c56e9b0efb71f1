"""Layout detection against the real server: TimescaleDB only when created in the database."""

from __future__ import annotations

import psycopg
import pytest

from omp.historian.backends.postgres import Layout, PostgresBackend
from omp.historian.backends.postgres.schema import choose_layout
from omp.historian.backends.postgres.store import available_extensions, installed_extensions
from tests.integration.postgres.conftest import Store

pytestmark = pytest.mark.postgres


def test_detection_follows_pg_extension(store: Store, backend: PostgresBackend) -> None:
    with psycopg.connect(store.url) as conn:
        installed = installed_extensions(conn)
        available = available_extensions(conn)
    assert "plpgsql" in installed
    assert "plpgsql" in available
    expected = choose_layout(installed_extensions=installed)
    assert backend.layout is expected
    assert store.sql("SELECT value FROM {s}.meta WHERE key = 'layout'") == [(expected.value,)]
    if expected is Layout.NATIVE:
        assert store.sql(
            "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = '{s}.points'::regclass"
        ) == [("r",)]


def test_describe_names_url_schema_and_layout(store: Store, backend: PostgresBackend) -> None:
    text = backend.describe()
    assert store.schema in text
    assert backend.layout.value in text
    assert text.startswith(store.url.split("?")[0])

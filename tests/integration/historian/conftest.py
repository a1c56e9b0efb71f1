"""The historian conformance suite runs every test here on every backend.

Each backend has its own factory module; a factory yields a fresh, empty
backend and removes what it created afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from omp.historian.backend import HistorianBackend
from tests.integration.historian import _duckdb_factory, _postgres_factory

BackendFactory = Callable[[], HistorianBackend]

_FACTORIES = {
    "duckdb": _duckdb_factory.make_backend,
    "postgres": _postgres_factory.make_backend,
}


@pytest.fixture(params=sorted(_FACTORIES), ids=sorted(_FACTORIES))
def backend_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BackendFactory]:
    """A factory of backends that share one store, so tests can close and reopen it."""
    with _FACTORIES[request.param](tmp_path) as factory:
        yield factory


@pytest.fixture
def backend(backend_factory: BackendFactory) -> Iterator[HistorianBackend]:
    opened = backend_factory()
    yield opened
    opened.close()

"""An unreachable or refusing server is one clear, fast HistorianUnavailableError naming the URL."""

from __future__ import annotations

import socket
import time

import pytest

from omp.core.errors import HistorianUnavailableError
from omp.historian.backends.postgres import PostgresBackend
from tests.integration.historian._postgres_factory import server_url

pytestmark = pytest.mark.postgres


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_refused_connection_names_the_url_without_password() -> None:
    url = f"postgresql://omp:hunter2@127.0.0.1:{_closed_port()}/plant"
    started = time.monotonic()
    with pytest.raises(HistorianUnavailableError) as caught:
        PostgresBackend.open(url)
    message = str(caught.value)
    assert "postgresql://omp:***@127.0.0.1:" in message
    assert "hunter2" not in message
    assert "unreachable" in message
    assert caught.value.__cause__ is None  # one message, not a chain of driver errors
    assert time.monotonic() - started < 3


def test_silent_server_times_out_within_the_connect_timeout() -> None:
    with socket.socket() as listener:  # accepts TCP but never speaks PostgreSQL
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(HistorianUnavailableError, match=f"127.0.0.1:{port}"):
            PostgresBackend.open(f"postgresql://postgres@127.0.0.1:{port}/x", connect_timeout_s=1)
        assert time.monotonic() - started < 5


def test_missing_database_is_unavailable_not_a_driver_error() -> None:
    url = server_url().rsplit("/", 1)[0] + "/omp_no_such_database"
    with pytest.raises(HistorianUnavailableError, match="omp_no_such_database"):
        PostgresBackend.open(url)


def test_malformed_url_is_named() -> None:
    with pytest.raises(HistorianUnavailableError, match="no-such-scheme"):
        PostgresBackend.open("postgresql://no-such-scheme:notaport/x")

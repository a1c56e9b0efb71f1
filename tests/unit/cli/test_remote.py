"""Reading through an instance: a slow answer and no answer are different failures."""

from __future__ import annotations

import httpx
import pytest

from omp.cli.remote import ApiTimeoutError, ApiUnreachableError, RemoteReader

URL = "http://127.0.0.1:8476"


def _reader(error: Exception) -> RemoteReader:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return RemoteReader(URL, transport=httpx.MockTransport(handler), timeout=7.5)


def test_a_read_timeout_says_the_query_timed_out_naming_url_and_timeout() -> None:
    reader = _reader(httpx.ReadTimeout("timed out"))
    with pytest.raises(ApiTimeoutError) as caught:
        reader.health()
    message = str(caught.value)
    assert message.startswith(f"the instance at {URL} did not answer /health within 7.5s")
    assert "no omp instance answers" not in message


def test_a_refused_connection_says_no_instance_answers() -> None:
    reader = _reader(httpx.ConnectError("connection refused"))
    with pytest.raises(ApiUnreachableError, match=f"^no omp instance answers at {URL}"):
        reader.health()

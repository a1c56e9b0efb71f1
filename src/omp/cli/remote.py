"""Reading through a running instance's read API (``omp run`` serves it on loopback).

Times are resolved on this side and sent as RFC 3339, so ``-2h`` means the
same whether the query runs here or through the API. Pages travel as Arrow.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.ipc as ipc

from omp.core.errors import OmpError, UnknownSignalError
from omp.core.time import Micros, format_duration, to_rfc3339
from omp.runtime.instance import InstanceInfo, read_instance
from omp.runtime.query import QueryError

CURSOR_HEADER = "X-OMP-Next-Cursor"
TIMEOUT_S = 60.0
PROBE_TIMEOUT_S = 5.0


class ApiUnreachableError(OmpError):
    """No omp instance answers at the URL (connection refused, no route, connect timeout)."""


class ApiTimeoutError(OmpError):
    """The instance accepted the request but did not answer within the timeout."""


class RemoteReader:
    """Queries a running instance over HTTP; the same answers as a local ``QueryService``."""

    def __init__(
        self,
        url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = TIMEOUT_S,
    ) -> None:
        self.url = url.rstrip("/")
        self._timeout = timeout
        self._client = httpx.Client(base_url=self.url, timeout=timeout, transport=transport)

    def close(self) -> None:
        self._client.close()

    def _get(self, path: str, params: dict[str, Any]) -> httpx.Response:
        try:
            response = self._client.get(path, params=params)
        except (httpx.ReadTimeout, httpx.WriteTimeout) as exc:
            raise ApiTimeoutError(
                f"the instance at {self.url} did not answer {path} within {self._timeout:g}s "
                f"(it is up, but the query took too long: narrow the range or the pattern): {exc}"
            ) from None
        except httpx.TransportError as exc:
            raise ApiUnreachableError(f"no omp instance answers at {self.url}: {exc}") from None
        if response.status_code == 200:
            return response
        detail = _detail(response)
        if response.status_code == 404:
            raise UnknownSignalError(detail)
        if response.status_code == 400:
            raise QueryError(detail)
        raise OmpError(f"{self.url}{path}: HTTP {response.status_code}: {detail}")

    def health(self) -> dict[str, Any]:
        body: dict[str, Any] = self._get("/health", {}).json()
        return body

    def raw_pages(
        self, pattern: str, *, start: Micros, end: Micros, page: int
    ) -> Iterator[pa.Table]:
        params: dict[str, Any] = {
            "pattern": pattern,
            "from": to_rfc3339(start),
            "to": to_rfc3339(end),
            "limit": page,
            "format": "arrow",
        }
        while True:
            response = self._get("/query", params)
            yield ipc.open_stream(response.content).read_all()
            cursor = response.headers.get(CURSOR_HEADER)
            if not cursor:
                return
            params["cursor"] = cursor

    def buckets(
        self, pattern: str, *, start: Micros, end: Micros, every: Micros, agg: str
    ) -> pa.Table:
        params = {
            "pattern": pattern,
            "from": to_rfc3339(start),
            "to": to_rfc3339(end),
            "every": format_duration(every),
            "agg": agg,
            "format": "arrow",
        }
        return ipc.open_stream(self._get("/query", params).content).read_all()


def live_instance(data_dir: Path) -> InstanceInfo | None:
    """The instance announced in ``data_dir`` if its pid lives and its API answers.

    An announcement whose API does not answer is treated as stale (its pid may
    have been reused by another process); a real conflict still shows up as a
    locked historian file.
    """
    instance = read_instance(data_dir)
    if instance is None:
        return None
    try:
        response = httpx.get(f"{instance.api_url.rstrip('/')}/health", timeout=PROBE_TIMEOUT_S)
    except httpx.TransportError:
        return None
    return instance if response.status_code == 200 else None


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip() or response.reason_phrase
    if isinstance(body, dict):
        detail = body.get("detail", body)
        return detail if isinstance(detail, str) else str(detail)
    return str(body)

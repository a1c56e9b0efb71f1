"""Expected errors become JSON answers with a status code; the message names the culprit."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from omp.core.errors import (
    HistorianUnavailableError,
    OmpError,
    TimeFormatError,
    UnknownSignalError,
)
from omp.runtime.query import QueryError

_STATUS: tuple[tuple[type[OmpError], int], ...] = (
    (UnknownSignalError, 404),
    (QueryError, 400),
    (TimeFormatError, 400),
    (HistorianUnavailableError, 503),
)


def _status_of(exc: OmpError) -> int:
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 500


async def _omp_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OmpError)  # registered for OmpError only
    return JSONResponse(
        status_code=_status_of(exc),
        content={"error": type(exc).__name__, "detail": str(exc)},
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(OmpError, _omp_error)

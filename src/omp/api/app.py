"""The FastAPI application: one thin router per resource."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.trustedhost import TrustedHostMiddleware

from omp.api import errors
from omp.api.deps import ReadPlatform
from omp.api.routers import health, latest, query, signals, sources

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def allowed_hosts(host: str | None) -> list[str]:
    """The ``Host`` header values the API answers: loopback names, plus ``host`` if given.

    >>> allowed_hosts("::1")
    ['127.0.0.1', 'localhost', '[::1]']
    """
    hosts = list(LOOPBACK_HOSTS)
    if host:
        name = f"[{host}]" if ":" in host else host  # an IPv6 literal, as it appears in Host
        if name.lower() not in hosts:
            hosts.append(name.lower())
    return hosts


def create_app(platform: ReadPlatform, *, host: str | None = None) -> FastAPI:
    """An app serving ``platform``; tests pass a real platform built inline.

    Requests whose ``Host`` header is not a loopback name (or ``host``, the
    address it is served on) get 400: a web page elsewhere cannot reach this
    loopback API through DNS rebinding.
    """
    app = FastAPI(
        title="omp read API",
        summary="Health, signals and queries of one running omp instance (loopback only).",
        version="1",
    )
    app.state.platform = platform
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(host))
    errors.install(app)
    app.include_router(health.router)
    app.include_router(signals.router)
    app.include_router(query.router)
    app.include_router(latest.router)
    app.include_router(sources.router)
    return app

"""The FastAPI application: one thin router per resource."""

from __future__ import annotations

from fastapi import FastAPI

from omp.api import errors
from omp.api.deps import ReadPlatform
from omp.api.routers import health, latest, query, signals


def create_app(platform: ReadPlatform) -> FastAPI:
    """An app serving ``platform``; tests pass a real platform built inline."""
    app = FastAPI(
        title="omp read API",
        summary="Health, signals and queries of one running omp instance (loopback only).",
        version="1",
    )
    app.state.platform = platform
    errors.install(app)
    app.include_router(health.router)
    app.include_router(signals.router)
    app.include_router(query.router)
    app.include_router(latest.router)
    return app

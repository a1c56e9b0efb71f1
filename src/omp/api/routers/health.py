"""``GET /health``: status, model version, historian counters, ingest rejects."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from omp.api.deps import PlatformDep

router = APIRouter(tags=["health"])


@router.get("/health")
def get_health(platform: PlatformDep) -> dict[str, Any]:
    return platform.health().to_dict()

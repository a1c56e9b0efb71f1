"""``GET /sources``: source addresses bound to no signal, and input refused per source."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from omp.api.deps import PlatformDep

router = APIRouter(tags=["sources"])


@router.get("/sources")
def get_sources(platform: PlatformDep) -> dict[str, Any]:
    """Unmapped addresses with point counts (bind them and the model reloads without a
    restart), and per-source counts of input the connectors could not decode."""
    return platform.sources()

"""``GET /latest?pattern=``: the newest point of each matched signal that has one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from omp.api.deps import PlatformDep
from omp.runtime.formats import csv_ready

router = APIRouter(tags=["query"])


@router.get("/latest")
def latest(platform: PlatformDep, pattern: str) -> dict[str, Any]:
    table = platform.queries.latest(pattern)
    return {
        "pattern": pattern,
        "model_version": platform.queries.model_version,
        "rows": csv_ready(table).to_pylist(),
    }

"""``GET /signals?pattern=``: the signals a path or glob matches, with kind, unit, datatype."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from omp.api.deps import PlatformDep

router = APIRouter(tags=["signals"])


@router.get("/signals")
def list_signals(platform: PlatformDep, pattern: str = "**") -> dict[str, Any]:
    signals = platform.queries.signals(pattern)
    return {
        "model_version": platform.queries.model_version,
        "signals": [
            {
                "path": s.path,
                "id": s.id,
                "kind": s.kind,
                "unit": s.unit,
                "datatype": s.datatype,
            }
            for s in signals
        ],
    }

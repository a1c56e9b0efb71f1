"""A snapshot of how a running platform is doing, for ``/health`` and ``omp run``."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    """Running, but something needs attention (e.g. the historian writer failed)."""
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class Health:
    """Status, the model version, historian counters and ingest totals."""

    status: Status
    model_version: str
    historian: str
    """Where the data lives (file or redacted URL)."""
    historian_counters: dict[str, Any] = field(default_factory=dict)
    ingest_accepted: int = 0
    ingest_rejected: dict[str, int] = field(default_factory=dict)
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per plugged-in service: ``running``, plus what the service reports about itself."""
    problems: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "model_version": self.model_version,
            "historian": {"target": self.historian, **self.historian_counters},
            "ingest": {"accepted": self.ingest_accepted, "rejected": dict(self.ingest_rejected)},
            "services": {name: dict(details) for name, details in self.services.items()},
            "problems": list(self.problems),
        }

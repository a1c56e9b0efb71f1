"""What routers need from the running platform, injected through ``app.state``."""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from fastapi import Depends, Request

from omp.core.time import Clock
from omp.runtime.health import Health
from omp.runtime.query import QueryService


class ReadPlatform(Protocol):
    """The part of the platform the read API serves."""

    @property
    def queries(self) -> QueryService: ...

    @property
    def clock(self) -> Clock: ...

    def health(self) -> Health: ...

    def sources(self) -> dict[str, Any]: ...


def get_platform(request: Request) -> ReadPlatform:
    platform: ReadPlatform = request.app.state.platform
    return platform


PlatformDep = Annotated[ReadPlatform, Depends(get_platform)]

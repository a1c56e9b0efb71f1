"""A scriptable fake connector for host tests (protocol-free)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from omp.connectors.base import ConnectorPlugin, ConnectorSpec, Options, Session, WriteValue
from omp.model.kinds import Protocol


class FakeOptions(Options):
    period: float = 0.01
    label: str = "x"


Script = Callable[["FakeConnector", Session], Awaitable[None]]


@dataclass
class FakeWorld:
    """What fake connectors did, shared with the test; ``script`` decides each run."""

    script: Script
    runs: dict[str, int] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    writes: list[tuple[str, str, WriteValue]] = field(default_factory=list)

    def plugin(self, protocol: Protocol = Protocol.MQTT) -> ConnectorPlugin:
        def create(spec: ConnectorSpec[Options]) -> FakeConnector:
            self.created.append(spec.name)
            return FakeConnector(spec, self)

        return ConnectorPlugin(protocol, FakeOptions, create)


class FakeConnector:
    def __init__(self, spec: ConnectorSpec[Options], world: FakeWorld) -> None:
        self.spec = spec
        self.world = world

    async def run(self, session: Session) -> None:
        self.world.runs[self.spec.name] = self.world.runs.get(self.spec.name, 0) + 1
        await self.world.script(self, session)

    async def write(self, address: str, value: WriteValue) -> None:
        await asyncio.sleep(0)
        self.world.writes.append((self.spec.name, address, value))

    @property
    def run_count(self) -> int:
        return self.world.runs[self.spec.name]

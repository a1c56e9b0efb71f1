"""What a connector is, as the host sees it.

A connector is protocol glue: ``run`` connects, emits what it reads into its
session's ``Feed``, and returns or raises when the link is gone; the host
decides when to try again. Connectors never sleep between reconnects, never
swallow a lost link, and never import the ingest pipeline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from omp.connectors.feed import Feed
from omp.connectors.health import ConnectorHealth
from omp.core.errors import OmpError
from omp.core.time import Clock
from omp.model.kinds import Protocol as Wire
from omp.model.registry import SourceBinding

WriteValue = bool | int | float | str


class ConnectionLostError(OmpError):
    """The link to the device or broker is gone; the message names the peer and why."""


class WriteError(OmpError):
    """A write-back was refused: unknown address, not writable, device said no, or no link."""


def option_problems(exc: ValidationError) -> list[tuple[tuple[str | int, ...], str]]:
    """Each problem of a failed options validation: (path inside the options, message)."""
    return [(tuple(error["loc"]), error["msg"]) for error in exc.errors()]


def first_option_problem(exc: ValidationError) -> str:
    """The first problem as one phrase, ``a.b: message`` (``(all)`` for the whole mapping)."""
    where, message = option_problems(exc)[0]
    return f"{'.'.join(str(step) for step in where) or '(all)'}: {message}"


class Options(BaseModel):
    """Base of every connector's typed options: frozen, and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


O_co = TypeVar("O_co", bound=Options, covariant=True)


@dataclass(frozen=True, slots=True)
class ConnectorSpec(Generic[O_co]):
    """One configured connector: its name, typed options and the bindings that name it.

    ``bindings`` maps source address to binding (with its ``group``, when the
    model names one); connectors that poll or subscribe per address (OPC UA,
    Modbus) read their address list from it. Addresses bound by mapping rules
    are not listed: rules suit sources that announce themselves (MQTT, Sparkplug).
    """

    name: str
    protocol: Wire
    options: O_co
    bindings: Mapping[str, SourceBinding] = field(default_factory=dict)
    broker_url: str | None = None
    """The platform's MQTT broker (external or embedded), for MQTT-based connectors whose
    options name none."""

    def fingerprint(self) -> tuple[object, ...]:
        """Equal fingerprints mean a reload can leave the running connector alone."""
        return (
            self.protocol,
            self.options.model_dump_json(),
            self.broker_url,
            tuple(sorted((a, b.group or "") for a, b in self.bindings.items())),
        )


@dataclass(slots=True)
class Session:
    """What one ``run`` attempt gets: where to put values, health, time and a logger.

    A connector calls ``health.connected()`` once its link is up (the host then
    resets its backoff) and puts every value into ``feed``.
    """

    spec: ConnectorSpec[Options]
    feed: Feed
    health: ConnectorHealth
    clock: Clock
    log: logging.Logger


class Connector(Protocol):
    """A running protocol client. The host calls ``run`` again after it returns or raises."""

    async def run(self, session: Session) -> None:
        """Connect, then read until cancelled or the link drops.

        Raise ``ConnectionLostError`` (or let the library's OSError through) when the
        link is gone; any other exception counts as a crash. Either way the host
        restarts the connector after a backoff; returning normally means the same.
        """
        ...

    async def write(self, address: str, value: WriteValue) -> None:
        """Write one value to the device (setpoints); raises ``WriteError`` naming why."""
        ...


@dataclass(frozen=True, slots=True)
class ConnectorPlugin:
    """How the runtime knows a protocol: its options schema and how to make a connector."""

    protocol: Wire
    options: type[Options]
    create: Callable[[ConnectorSpec[Options]], Connector]
    description: str = ""

"""What the UNS publisher publishes, and how: ``[uns]`` in omp.toml.

Rules refine the defaults per signal: each rule selects signals by a glob of
paths and/or a signal kind, and sets ``retain`` and/or ``max_rate``; later
rules win over earlier ones for the fields they set.

>>> options = UnsOptions.model_validate({
...     "max_rate": "1s",
...     "rules": [
...         {"kind": "state", "max_rate": "off"},
...         {"signals": "acme/**/debug_*", "retain": False},
...     ],
... })
>>> options.max_rate, options.rules[0].max_rate, options.rules[1].retain
(1000000, 0, False)
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator

from omp.connectors.base import Options
from omp.core.errors import TimeFormatError
from omp.core.time import Micros, parse_duration
from omp.model.glob import pattern_regex
from omp.model.kinds import Kind

DEFAULT_PREFIX = "omp/v1"


def _interval(value: object) -> object:
    """``"1s"``/``"250ms"`` as microseconds; ``"off"``, ``"0"`` or 0 for no limit."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("off", "none", "0"):
            return 0
        try:
            return parse_duration(text)
        except TimeFormatError as exc:
            raise ValueError(str(exc)) from None
    return value


MinInterval = Annotated[Micros, BeforeValidator(_interval), Field(ge=0)]
"""Shortest time between two publishes of one signal, in microseconds (0: no limit)."""


class UnsRule(Options):
    """Overrides for the signals a rule selects (all given selectors must match)."""

    signals: str = "**"
    """Glob over signal paths: ``*`` one level, ``**`` any levels (``+``/``#`` work too)."""
    kind: Kind | None = None
    """Only signals of this kind (measurement, counter, state, setpoint, text, event)."""
    retain: bool | None = None
    max_rate: MinInterval | None = None

    @field_validator("signals")
    @classmethod
    def _compiles(cls, value: str) -> str:
        pattern_regex(value.strip("/"))
        return value.strip("/")

    def selects(self, path: str, kind: Kind) -> bool:
        return (self.kind is None or self.kind is kind) and bool(
            pattern_regex(self.signals).fullmatch(path)
        )


class UnsOptions(Options):
    """The unified-namespace publisher's options (all optional)."""

    enabled: bool = True
    prefix: str = DEFAULT_PREFIX
    """Topic root: values go to ``<prefix>/<signal path>``."""
    qos: Literal[0, 1] = 0
    retain: bool = True
    """Retain value messages, so a new subscriber sees every signal's latest value at once."""
    max_rate: MinInterval = 0
    """Per signal, at most one publish per this interval (``"1s"``); the latest value wins.
    ``0``/``"off"``: publish every value the publisher gets to."""
    events: bool = True
    """Publish events to ``<prefix>/<equipment path>/_events/<kind>``."""
    events_retain: bool = False
    event_backlog: int = Field(default=10_000, ge=1)
    """Events kept while the broker is away; past this the oldest are dropped (counted)."""
    rules: list[UnsRule] = Field(default_factory=list)

    @field_validator("prefix")
    @classmethod
    def _plain_topic(cls, value: str) -> str:
        prefix = value.strip("/")
        if not prefix or any(char in prefix for char in "+#\0") or "//" in prefix:
            raise ValueError(
                f"UNS prefix {value!r} must be a plain MQTT topic like 'omp/v1' "
                "(no wildcards, no empty levels)"
            )
        return prefix

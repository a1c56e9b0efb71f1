"""The options of an OPC UA connector, as written under ``connectors:`` in factory.yaml.

>>> options = OpcUaOptions.model_validate(
...     {"endpoint": "opc.tcp://10.10.1.20:4840", "publishing_interval": "500ms"})
>>> options.subscription(None).publishing_ms
500.0
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from omp.connectors.base import Options
from omp.core.errors import TimeFormatError
from omp.core.time import Micros, parse_duration

_ZERO = frozenset({"0", "0ms", "0s", "0us"})


def _interval(value: object) -> Micros:
    """A duration string; ``0ms`` is allowed and means "as fast as the server can"."""
    if not isinstance(value, str):
        raise ValueError(f"duration {value!r} needs a unit, like '500ms' or '1s'")
    if value.strip() in _ZERO:
        return 0
    try:
        return parse_duration(value)
    except TimeFormatError as exc:
        raise ValueError(str(exc)) from None


Interval = Annotated[Micros, BeforeValidator(_interval)]


class Deadband(Options):
    """Report a change only when it exceeds ``value``: absolute units, or percent of EURange."""

    type: Literal["absolute", "percent"]
    value: float = Field(ge=0, allow_inf_nan=False)


class GroupOptions(Options):
    """One subscription: fields left out take the connector's defaults."""

    publishing_interval: Interval | None = None
    sampling_interval: Interval | None = None
    queue_size: int | None = Field(default=None, ge=1)
    deadband: Deadband | None = None


@dataclass(frozen=True, slots=True)
class Subscription:
    """The resolved settings of one subscription (a named group or the default)."""

    name: str
    publishing_ms: float
    sampling_ms: float
    queue_size: int
    deadband: Deadband | None


DEFAULT_GROUP = "default"


class OpcUaOptions(Options):
    """Options of one OPC UA server connection; see docs/connectors/opcua.md."""

    endpoint: str = Field(pattern=r"^opc\.tcp://[^/\s]+(/\S*)?$")
    security_policy: Literal["None", "Basic256Sha256"] = "None"
    security_mode: Literal["None", "Sign", "SignAndEncrypt"] = "None"
    certificate: Path | None = None
    private_key: Path | None = None
    pki_dir: Path = Path("~/.omp/pki/opcua")
    """Where a self-signed client certificate is made (once, then reused) when security is on
    and no ``certificate``/``private_key`` is given."""
    server_certificate: Path | None = None
    username: str | None = None
    password: str | None = None
    session_timeout: Interval = 60_000_000
    request_timeout: Interval = 4_000_000
    publishing_interval: Interval = 500_000
    sampling_interval: Interval = 0
    queue_size: int = Field(default=1, ge=1)
    deadband: Deadband | None = None
    groups: dict[str, GroupOptions] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> OpcUaOptions:
        secure = self.security_policy != "None"
        if secure != (self.security_mode != "None"):
            raise ValueError(
                "security_policy and security_mode go together: both None, or "
                "Basic256Sha256 with Sign or SignAndEncrypt"
            )
        if (self.certificate is None) != (self.private_key is None):
            raise ValueError("certificate and private_key go together")
        if self.password is not None and self.username is None:
            raise ValueError("password without username")
        if self.session_timeout == 0 or self.request_timeout == 0:
            raise ValueError("session_timeout and request_timeout must be above 0")
        return self

    def subscription(self, group: str | None) -> Subscription:
        """The settings of ``group`` (None: the default subscription); ``KeyError`` if unknown."""
        spec = self.groups[group] if group is not None else GroupOptions()
        return Subscription(
            name=group or DEFAULT_GROUP,
            publishing_ms=_ms(_pick(spec.publishing_interval, self.publishing_interval)),
            sampling_ms=_ms(_pick(spec.sampling_interval, self.sampling_interval)),
            queue_size=spec.queue_size or self.queue_size,
            deadband=spec.deadband or self.deadband,
        )


def _pick(value: Micros | None, default: Micros) -> Micros:
    return default if value is None else value


def _ms(micros: Micros) -> float:
    return micros / 1000

"""Runtime settings: parsed once at start-up into a frozen model.

Sources, later ones win:

1. the defaults below;
2. a TOML file (``--config FILE``, else ``$OMP_CONFIG``, else ``./omp.toml`` when present);
3. environment variables ``OMP_DATA_DIR``, ``OMP_HISTORIAN_URL``, ``OMP_FLUSH_INTERVAL``,
   ``OMP_QUEUE_SIZE``, ``OMP_API_HOST``, ``OMP_API_PORT``;
4. command-line flags.

An example ``omp.toml``::

    data_dir = "/var/lib/omp"
    historian_url = "postgresql://omp@db.example:5432/omp"   # omit for embedded DuckDB
    flush_interval = "1s"
    queue_size = 1_000_000
    retention_interval = "1h"
    api_port = 8476

    [retention.default]
    raw = "90d"
    [retention.kind.measurement]
    raw = "30d"
    minute = "365d"
    [retention.signal."acme/munich/body_shop/line_1/cell_a/mill_01/spindle_temp"]
    raw = "7d"

>>> Settings(data_dir=Path("/tmp/x")).historian_target
'/tmp/x/historian.duckdb'
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from omp.core.errors import ConfigError, TimeFormatError
from omp.core.net import is_loopback
from omp.core.time import Micros, parse_duration
from omp.historian.types import FOREVER, RetentionPolicy, RetentionRule

DEFAULT_DATA_DIR = Path("omp-data")
DEFAULT_API_PORT = 8476
DUCKDB_FILE_NAME = "historian.duckdb"
CONFIG_FILE_NAME = "omp.toml"

ENV_VARS: dict[str, str] = {
    "OMP_DATA_DIR": "data_dir",
    "OMP_HISTORIAN_URL": "historian_url",
    "OMP_FLUSH_INTERVAL": "flush_interval",
    "OMP_QUEUE_SIZE": "queue_size",
    "OMP_API_HOST": "api_host",
    "OMP_API_PORT": "api_port",
    "OMP_MQTT_URL": "mqtt_url",
    "OMP_BROKER_PORT": "broker_port",
}


def _duration(value: object) -> object:
    """Accept ``"1s"``-style strings as well as plain microsecond integers."""
    if isinstance(value, str) and value.strip().lower() == "forever":
        return FOREVER
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except TimeFormatError as exc:
            raise ValueError(str(exc)) from None
    return value


Duration = Annotated[Micros, BeforeValidator(_duration), Field(gt=0)]
OptionalDuration = Annotated[Micros | None, BeforeValidator(_duration)]


class HistorianKind(StrEnum):
    """Which storage engine a historian URL selects."""

    DUCKDB = "duckdb"
    POSTGRES = "postgres"


class RetentionRuleSettings(BaseModel):
    """How long each tier keeps data (a duration or ``forever``).

    A tier left out takes the less specific rule's value (signal -> kind ->
    default); a tier no rule sets is kept forever.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    raw: OptionalDuration = None
    minute: OptionalDuration = None
    hour: OptionalDuration = None

    def to_rule(self) -> RetentionRule:
        return RetentionRule(raw=self.raw, minute=self.minute, hour=self.hour)


class RetentionSettings(BaseModel):
    """Retention rules: a default, per signal kind, per signal path (most specific wins)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default: RetentionRuleSettings = RetentionRuleSettings()
    kind: dict[str, RetentionRuleSettings] = Field(default_factory=dict)
    signal: dict[str, RetentionRuleSettings] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _rollups_outlive_raw(self) -> RetentionSettings:
        policy = self.to_policy()
        rules = [("default", policy.default)]
        rules += [(f"kind.{k}", policy.rule_for("", k)) for k in policy.by_kind]
        rules += [(f"signal.{p!r}", policy.rule_for(p, "")) for p in policy.by_signal]
        for where, rule in rules:
            for problem in rule.problems():
                raise ValueError(f"retention.{where}: {problem}")
        return self

    def to_policy(self) -> RetentionPolicy:
        return RetentionPolicy(
            default=self.default.to_rule(),
            by_kind={k: r.to_rule() for k, r in self.kind.items()},
            by_signal={p: r.to_rule() for p, r in self.signal.items()},
        )


class Settings(BaseModel):
    """Everything the runtime needs to know before it starts. Frozen once parsed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path = DEFAULT_DATA_DIR
    historian_url: str | None = None
    """``None``: the embedded DuckDB file ``<data_dir>/historian.duckdb``;
    ``duckdb:///path/file.duckdb``: another DuckDB file;
    ``postgresql://user@host:port/db``: PostgreSQL."""
    postgres_schema: str = "omp"
    flush_interval: Duration = 1_000_000
    """The durability window: accepted points are committed within this time."""
    queue_size: int = Field(default=1_000_000, gt=0)
    """Points the historian writer may hold before ingest applies backpressure."""
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=DEFAULT_API_PORT, ge=0, le=65535)
    retention: RetentionSettings = RetentionSettings()
    retention_interval: Duration = 3_600_000_000
    """How often the retention policy is applied while running (default hourly)."""
    mqtt_url: str | None = None
    """The platform's MQTT broker (``mqtt://host:1883``, ``mqtts://...``), used by MQTT and
    Sparkplug connectors that name none and by the UNS publisher. ``None``: omp starts its
    embedded broker on ``broker_host:broker_port`` when anything needs one."""
    broker_host: str = "127.0.0.1"
    broker_port: int | None = Field(default=None, ge=0, le=65535)
    """The embedded broker's port. None: 1883, or a free port when 1883 is taken (another
    broker runs there); 0: any free port; a number: that port or an error naming it."""
    uns: dict[str, Any] = Field(default_factory=dict)
    """The unified-namespace publisher's options (``[uns]`` in omp.toml; see docs/connectors/
    uns.md); checked against the publisher's schema when the platform starts."""
    model_watch_interval: Duration = 2_000_000
    """How often ``omp run`` looks for changes to the model file."""

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_scheme(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        if not value.startswith(("mqtt://", "mqtts://", "tcp://", "ssl://")):
            raise ValueError(f"MQTT URL {value!r} must start with mqtt:// or mqtts://")
        return value

    @field_validator("broker_host")
    @classmethod
    def _broker_loopback(cls, value: str) -> str:
        # The embedded broker takes anonymous clients: it stays on loopback; a plant-wide
        # broker is Mosquitto or a cluster (docs/connectors/broker.md).
        return _loopback(value, "broker_host")

    @property
    def has_retention(self) -> bool:
        """Whether any rule deletes anything (otherwise no retention service runs)."""
        rules = [self.retention.default, *self.retention.kind.values()]
        rules += self.retention.signal.values()
        return any(v not in (None, FOREVER) for r in rules for v in (r.raw, r.minute, r.hour))

    @field_validator("historian_url")
    @classmethod
    def _known_scheme(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        if not value.startswith(("postgresql://", "postgres://", "duckdb://")):
            raise ValueError(
                f"historian URL {value!r} must start with postgresql:// or duckdb:// "
                "(or be left out for the embedded DuckDB file)"
            )
        return value

    @field_validator("api_host")
    @classmethod
    def _loopback_only(cls, value: str) -> str:
        # Until the access layer exists, no HTTP surface may leave the machine.
        return _loopback(value, "api_host")

    @property
    def historian_kind(self) -> HistorianKind:
        url = self.historian_url
        if url is not None and url.startswith(("postgresql://", "postgres://")):
            return HistorianKind.POSTGRES
        return HistorianKind.DUCKDB

    @property
    def duckdb_path(self) -> Path:
        """The DuckDB file in use (only meaningful for the DuckDB kind)."""
        url = self.historian_url
        if url is not None and url.startswith("duckdb://"):
            return Path(url.removeprefix("duckdb://"))
        return self.data_dir / DUCKDB_FILE_NAME

    @property
    def historian_target(self) -> str:
        """Where the data lives, for messages: a file path or the URL without password."""
        if self.historian_kind is HistorianKind.DUCKDB:
            return str(self.duckdb_path)
        return f"{redact_url(self.historian_url or '')} (schema {self.postgres_schema})"


def _loopback(value: str, name: str) -> str:
    if is_loopback(value):
        return value
    raise ValueError(f"{name} {value!r} is not a loopback address; use 127.0.0.1")


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, hostpart = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{hostpart}"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the settings file: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _config_file(explicit: Path | None, env: Mapping[str, str]) -> Path | None:
    if explicit is not None:
        return explicit
    if env.get("OMP_CONFIG"):
        return Path(env["OMP_CONFIG"])
    default = Path(CONFIG_FILE_NAME)
    return default if default.is_file() else None


FLAGS: dict[str, str] = {
    "data_dir": "--data-dir",
    "historian_url": "--historian",
    "api_port": "--api-port",
    "mqtt_url": "--mqtt",
    "broker_port": "--broker-port",
}
"""The command-line option of each setting that has one, for messages."""


def load_settings(
    *,
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, object] | None = None,
) -> Settings:
    """Merge defaults, the TOML file, the environment and ``overrides`` (CLI flags).

    ``None`` values in ``overrides`` mean "flag not given". Raises ``ConfigError``
    naming, per problem, where the bad value came from (the file, the
    environment variable or the command-line option) and the setting at fault.
    """
    environ = os.environ if env is None else env
    path = _config_file(config_file, environ)
    merged: dict[str, Any] = _read_toml(path) if path is not None else {}
    sources = {name: str(path) for name in merged}
    from_env = {field: var for var, field in ENV_VARS.items() if environ.get(var)}
    merged.update({field: environ[var] for field, var in from_env.items()})
    sources.update({field: f"environment variable {var}" for field, var in from_env.items()})
    flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    merged.update(flags)
    sources.update({name: f"command-line option {FLAGS.get(name, name)}" for name in flags})
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        fallback = str(path) if path is not None else "settings"
        raise ConfigError("; ".join(_problem(e, sources, fallback) for e in exc.errors())) from None


def _problem(error: Any, sources: Mapping[str, str], fallback: str) -> str:
    loc = [str(part) for part in error["loc"]]
    source = sources.get(loc[0], fallback) if loc else fallback
    return f"{source}: {'.'.join(loc)}: {error['msg']}"

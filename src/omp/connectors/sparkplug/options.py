"""Options of the Sparkplug B host application connector, parsed once from the model.

>>> options = SparkplugOptions(url="mqtt://broker:1883", host_id="omp-scada", groups=("packaging",))
>>> host_id = options.host_id_for("sparkplug")
>>> host_id
'omp-scada'
>>> options.subscriptions(host_id)
('spBv1.0/packaging/#', 'spBv1.0/STATE/omp-scada')
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import field_validator

from omp.connectors.base import Options
from omp.connectors.mqtt_transport import MqttEndpoint
from omp.core.quality import Quality
from omp.model.schema import Duration

NAMESPACE = "spBv1.0"
_RESERVED = set("+/#")


class StaleQuality(StrEnum):
    """What a death (NDEATH, DDEATH, or the host's own lost broker link) writes per metric."""

    BAD = "bad"
    UNCERTAIN = "uncertain"
    OFF = "off"
    """Write nothing: signals keep their last value and quality."""

    @property
    def quality(self) -> Quality | None:
        return {"bad": Quality.BAD, "uncertain": Quality.UNCERTAIN}.get(self.value)


class RebirthOptions(Options):
    """When the host asks an edge node for a new birth (NCMD ``Node Control/Rebirth``)."""

    enabled: bool = True
    """False makes a passive host: problems are counted, never answered with a request."""
    min_interval: Duration = 5_000_000
    """The least time between two rebirth requests to the same edge node (``5s``)."""


class SparkplugOptions(MqttEndpoint):
    """The broker (``MqttEndpoint``: url, login, TLS, client id, keepalive) plus host settings."""

    host_id: str | None = None
    """The Sparkplug host application id, unique on the broker: the STATE topic is
    ``spBv1.0/STATE/<host_id>``. Default: ``omp-<connector name>``."""
    groups: tuple[str, ...] = ()
    """Group ids to subscribe to; empty means every group (``spBv1.0/#``)."""
    rebirth: RebirthOptions = RebirthOptions()
    stale_quality: StaleQuality = StaleQuality.BAD

    @field_validator("host_id")
    @classmethod
    def _valid_host_id(cls, value: str | None) -> str | None:
        if value is not None:
            _check_id("host_id", value)
        return value

    @field_validator("groups")
    @classmethod
    def _valid_groups(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for group in value:
            _check_id("group id", group)
        return value

    def host_id_for(self, connector: str) -> str:
        return self.host_id or f"omp-{connector}"

    def subscriptions(self, host_id: str) -> tuple[str, ...]:
        """Data topics then the host's own STATE topic (spec: subscribe to both before birth)."""
        data = tuple(f"{NAMESPACE}/{g}/#" for g in self.groups) or (f"{NAMESPACE}/#",)
        return (*data, state_topic(host_id))


def state_topic(host_id: str) -> str:
    return f"{NAMESPACE}/STATE/{host_id}"


def _check_id(what: str, value: str) -> None:
    if not value or _RESERVED & set(value):
        raise ValueError(f"{what} {value!r} must be non-empty and hold none of '+', '/', '#'")

"""The options of an MQTT JSON connector, as written under it in the model file.

>>> options = MqttJsonOptions.model_validate({
...     "url": "mqtt://broker:1883",
...     "topics": [{"filter": "plant/+/+/+", "value": "data.temp", "timestamp": "ts"}],
... })
>>> options.qos, options.clean_session, options.topics[0].value_path
(1, False, ('data', 'temp'))
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from omp.connectors.base import Options
from omp.connectors.mqtt.matching import filter_problem
from omp.connectors.mqtt.paths import FieldPath, parse_path
from omp.connectors.mqtt.timestamps import TimestampFormat
from omp.connectors.mqtt_transport import MqttEndpoint

DEFAULT_SESSION_EXPIRY = 7 * 24 * 3600
"""Seconds the broker keeps omp's session (and queues its messages) while omp is away."""

_READING_KEYS = ("name_field", "value_field", "timestamp_field", "quality_field")


def _path(text: str | None) -> FieldPath | None:
    return None if text is None else parse_path(text)


class TopicOptions(Options):
    """One subscription and how its JSON payloads become values.

    At most one of ``value``, ``fields`` and ``readings``; with none of them the
    payload itself must be a bare JSON number, bool or string.
    """

    filter: str
    """MQTT topic filter (``+`` one level, ``#`` the rest), or ``$share/<group>/<filter>``."""
    value: str | None = None
    """Field path of the one value of each message (``data.temp``, ``readings[0].v``)."""
    fields: list[str] | Literal["*"] | None = None
    """Field paths, each its own address ``<topic>/<field>``; ``"*"``: every scalar top field."""
    readings: str | None = None
    """Field path of a list of reading objects, each ``<topic>/<name>``."""
    name_field: str = "name"
    value_field: str = "value"
    timestamp_field: str | None = None
    quality_field: str | None = None
    timestamp: str | None = None
    """Field path of the message's time; missing field or option: the time omp received it."""
    timestamp_format: TimestampFormat = TimestampFormat.RFC3339
    quality: str | None = None
    """Field path of the message's quality (good/uncertain/bad or an OPC UA status code)."""
    unit: str | None = None
    """UCUM unit the values are reported in (ingest converts to each signal's unit)."""
    device_levels: int | None = Field(default=None, ge=1, le=32)
    """Health per device named by this many leading topic levels; default: per filter."""

    @field_validator("filter")
    @classmethod
    def _valid_filter(cls, value: str) -> str:
        problem = filter_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("value", "readings", "timestamp", "quality", "timestamp_field",
                     "quality_field", "name_field", "value_field")  # fmt: skip
    @classmethod
    def _valid_path(cls, value: str | None) -> str | None:
        _path(value)
        return value

    @field_validator("fields")
    @classmethod
    def _valid_fields(cls, value: list[str] | str | None) -> list[str] | str | None:
        if isinstance(value, list):
            if not value:
                raise ValueError("fields must name at least one field, or be '*'")
            for field in value:
                parse_path(field)
        return value

    @model_validator(mode="after")
    def _one_extraction(self) -> TopicOptions:
        chosen = [k for k in ("value", "fields", "readings") if getattr(self, k) is not None]
        if len(chosen) > 1:
            raise ValueError(
                f"topic {self.filter!r}: use one of value, fields, readings (not {chosen})"
            )
        if self.readings is None:
            given = sorted(k for k in _READING_KEYS if k in self.model_fields_set)
            if given:
                raise ValueError(f"topic {self.filter!r}: {given[0]} needs readings")
        return self

    @property
    def value_path(self) -> FieldPath | None:
        return _path(self.value)

    @property
    def timestamp_path(self) -> FieldPath | None:
        return _path(self.timestamp)

    @property
    def quality_path(self) -> FieldPath | None:
        return _path(self.quality)


class MqttJsonOptions(MqttEndpoint):
    """Broker, session and subscriptions of one MQTT JSON connector."""

    qos: Literal[0, 1] = 1
    """1: at least once, acknowledged only after the values are handed to ingest."""
    clean_session: bool = False
    """False keeps a persistent session: the broker holds QoS 1 messages while omp is away."""
    session_expiry: int = Field(default=DEFAULT_SESSION_EXPIRY, ge=0, le=0xFFFFFFFF)
    """Seconds the broker keeps the session after omp disconnects (MQTT 5 session expiry)."""
    inflight: int = Field(default=1000, ge=1, le=65535)
    """Unacknowledged QoS 1 messages the broker may send ahead (MQTT 5 receive maximum)."""
    protocol_version: Literal["auto", "5", "3.1.1"] = "auto"
    """MQTT version: ``auto`` asks for 5 and falls back to 3.1.1 when the broker refuses it
    (the embedded broker speaks 3.1.1: sessions then last until the broker drops them, and
    ``session_expiry``/``inflight`` are the broker's settings)."""
    topics: list[TopicOptions] = Field(min_length=1)

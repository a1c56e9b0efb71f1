"""The shape of factory.yaml, as frozen pydantic models.

Extra keys are forbidden everywhere except in a connector (its protocol
options stay open until the connector issues type them), so a typo is an
error, not a silently ignored key. Rules that tie fields of one signal or one
type together (kind vs datatype, state labels, KPI signal references) are
checked here too; rules across the file (types, connectors, bindings) live in
``checks``.
"""

from __future__ import annotations

import zoneinfo
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PositiveInt,
    model_validator,
)
from pydantic_core import PydanticCustomError

from omp.core.errors import TimeFormatError
from omp.core.time import Micros, format_duration, parse_duration
from omp.model.kinds import Datatype, Kind, Protocol
from omp.model.mapping import rule_problem
from omp.model.names import check_name, did_you_mean
from omp.model.rules import kpi_rule_errors, signal_rule_errors
from omp.model.units import check_unit

RULES_ERROR = "omp_rules"
"""Error type whose ``ctx["rules"]`` holds ``(sub_path, message)`` pairs."""


def _unit(value: str) -> str:
    check_unit(value)
    return value


def _duration(value: object) -> Micros:
    if not isinstance(value, str):
        # ValueError, not TypeError: pydantic reports only ValueError as a validation error.
        raise ValueError(f"duration {value!r} needs a unit, like '42s', '1.5min' or '2h'")
    try:
        return parse_duration(value)
    except TimeFormatError as exc:
        raise ValueError(str(exc)) from None


def _timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        hint = did_you_mean(value, zoneinfo.available_timezones())
        raise ValueError(f"unknown time zone {value!r}{hint}; use an IANA name") from None
    return value


def _short_binding(value: object) -> object:
    return {"address": value} if isinstance(value, str) else value


def _nonblank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _raise_rules(errors: list[tuple[tuple[str | int, ...], str]]) -> None:
    if errors:
        raise PydanticCustomError(RULES_ERROR, "{count} rule errors", {"rules": errors})


Name = Annotated[str, AfterValidator(check_name)]
Unit = Annotated[str, AfterValidator(_unit)]
Duration = Annotated[
    Micros, BeforeValidator(_duration), PlainSerializer(format_duration, return_type=str)
]
"""Microseconds inside; written and dumped as the shortest exact spelling (``42s``)."""
TimeZone = Annotated[str, AfterValidator(_timezone)]
Text = Annotated[str, AfterValidator(_nonblank)]
AttributeValue = str | bool | int | float
Attributes = dict[Text, AttributeValue]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SignalSpec(_Strict):
    """One signal of an equipment type."""

    datatype: Datatype = Datatype.FLOAT
    kind: Kind = Kind.MEASUREMENT
    unit: Unit | None = None
    states: dict[int, Text] | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> SignalSpec:
        _raise_rules(signal_rule_errors(self))
        return self


class KpiParams(_Strict):
    """Parameters the KPI apps need. Every field is optional; equipment overrides per field."""

    ideal_cycle_time: Duration | None = None
    parts_per_cycle: PositiveInt | None = None
    good_count: Name | None = None
    scrap_count: Name | None = None
    total_count: Name | None = None
    state: Name | None = None
    producing_states: list[int] | None = None

    def merged(self, override: KpiParams) -> KpiParams:
        """These parameters with every field ``override`` sets replacing ours."""
        return self.model_copy(update={f: getattr(override, f) for f in override.model_fields_set})


class EquipmentType(_Strict):
    """A template: the signals, attributes and KPI parameters every instance has."""

    description: str | None = None
    attributes: Attributes = Field(default_factory=dict)
    kpi: KpiParams = Field(default_factory=KpiParams)
    signals: dict[Name, SignalSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _kpi_references(self) -> EquipmentType:
        errors = kpi_rule_errors(self.kpi, self.kpi.model_fields_set, self.signals)
        _raise_rules([(("kpi", *path), message) for path, message in errors])
        return self


class MapRuleSpec(_Strict):
    """Bind every source address matching ``source`` to the signal ``signal`` names.

    See ``omp.model.mapping`` for the pattern language.
    """

    source: Text
    signal: Text

    @model_validator(mode="after")
    def _valid_rule(self) -> MapRuleSpec:
        problem = rule_problem(self.source, self.signal)
        if problem is not None:
            _raise_rules([((), problem)])
        return self


class Connector(BaseModel):
    """A source of data. Protocol options are the further keys; each connector types its own
    (the runtime checks them with the connector's schema, see ``load_model``)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    protocol: Protocol
    description: str | None = None
    map: list[MapRuleSpec] = Field(default_factory=list)
    """Rules tried, in order, for source addresses no equipment binds explicitly."""

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class BindingSpec(_Strict):
    """Where a signal's values come from: ``engineering = raw * scale + offset`` in ``unit``."""

    address: Text
    connector: Name | None = None
    group: Name | None = None
    """The connector's named group: a Modbus polling group, an OPC UA subscription."""
    unit: Unit | None = None
    scale: float = Field(default=1.0, allow_inf_nan=False)
    offset: float = Field(default=0.0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _nonzero_scale(self) -> BindingSpec:
        if self.scale == 0:
            _raise_rules([(("scale",), "scale must not be 0")])
        return self


Binding = Annotated[BindingSpec, BeforeValidator(_short_binding)]


class Equipment(_Strict):
    """One machine: an instance of a type, bound to its sources."""

    type: Name
    description: str | None = None
    attributes: Attributes = Field(default_factory=dict)
    kpi: KpiParams = Field(default_factory=KpiParams)
    connector: Name | None = None
    bindings: dict[Name, Binding] = Field(default_factory=dict)


class Cell(_Strict):
    description: str | None = None
    equipment: dict[Name, Equipment] = Field(default_factory=dict)


class Line(_Strict):
    description: str | None = None
    cells: dict[Name, Cell] = Field(default_factory=dict)


class Area(_Strict):
    description: str | None = None
    lines: dict[Name, Line] = Field(default_factory=dict)


class Site(_Strict):
    timezone: TimeZone
    description: str | None = None
    areas: dict[Name, Area] = Field(default_factory=dict)


class FactoryModel(_Strict):
    """The whole factory.yaml: one enterprise, its types, connectors and ISA-95 tree."""

    format: Literal[1] = 1
    enterprise: Name
    description: str | None = None
    equipment_types: dict[Name, EquipmentType] = Field(min_length=1)
    connectors: dict[Name, Connector] = Field(default_factory=dict)
    sites: dict[Name, Site] = Field(min_length=1)

"""Births (NBIRTH, DBIRTH): build a scope's metric table and store the birth values.

Every defined metric gets its address (``<group>/<edge node>/<device>/<name>``,
``_node`` as the device for node metrics) registered in the feed once, with
its unit when the birth carries one omp can read. ``bdSeq`` is session
bookkeeping, not a process value, and is not stored; neither are metrics the
birth marks ``is_transient`` (the spec: not for historians).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from omp.connectors.feed import Feed
from omp.connectors.sparkplug.decode import add, metric_quality
from omp.connectors.sparkplug.metrics import Kind, MetricDef, WrongValueError, kind_of, read_value
from omp.connectors.sparkplug.nodes import Scope
from omp.connectors.sparkplug.units import UNIT_KEYS, ucum
from omp.core.quality import Quality

BD_SEQ = "bdSeq"


@dataclass(slots=True)
class Birth:
    """What a birth defined, and what in it could not be used."""

    scope: Scope
    bd_seq: int | None = None
    unsupported: list[MetricDef] = field(default_factory=list)
    """Metrics of datatypes omp does not decode (DataSet, Template, Bytes, File, arrays)."""
    wrong_values: list[MetricDef] = field(default_factory=list)
    nameless: int = 0
    unknown_units: list[tuple[str, str]] = field(default_factory=list)
    """(metric, unit text) pairs whose unit is not one omp can convert: stored without unit."""


def read_birth(
    name: str,
    prefix: str,
    metrics: Iterable[Any],
    sent_ms: int,
    feed: Feed,
    *,
    stale: Quality,
) -> Birth:
    """The scope a birth defines; its values are appended to ``feed`` as they are read."""
    birth = Birth(Scope(name))
    for metric in metrics:
        if not metric.name:
            birth.nameless += 1
            continue
        if metric.name == BD_SEQ:
            birth.bd_seq = metric.long_value or metric.int_value
            continue
        _define(birth, prefix, metric, sent_ms, feed, stale, feed.address)
    return birth


def _define(
    birth: Birth,
    prefix: str,
    metric: Any,
    sent_ms: int,
    feed: Feed,
    stale: Quality,
    register: Callable[[str, str | None], int],
) -> None:
    kind = kind_of(metric.datatype)
    unit_text = unit_property(metric)
    unit = ucum(unit_text) if unit_text else None
    if unit_text and unit is None:
        birth.unknown_units.append((metric.name, unit_text))
    address = prefix + metric.name
    definition = MetricDef(metric.name, address, kind, metric.datatype, unit=unit)
    alias = metric.alias if metric.HasField("alias") else None
    if metric.is_transient:
        definition.transient = True
        birth.scope.define(definition, alias)
        return
    if kind is Kind.UNSUPPORTED:
        birth.scope.define(definition, alias)
        birth.unsupported.append(definition)
        return
    definition.index = register(address, unit)
    birth.scope.define(definition, alias)
    if metric.is_null:
        return
    try:
        value = read_value(metric, kind)
    except WrongValueError:
        birth.wrong_values.append(definition)
        return
    ts = metric.timestamp or sent_ms
    add(feed, kind, definition.index, ts, value, metric_quality(metric, stale))
    birth.scope.last[definition.index] = value


def unit_property(metric: Any) -> str | None:
    """The text of the metric's engineering-unit property (``engUnit`` and kin), if any."""
    if not metric.HasField("properties"):
        return None
    properties = metric.properties
    for key, value in zip(properties.keys, properties.values, strict=False):
        if key.lower() in UNIT_KEYS and value.WhichOneof("value") == "string_value":
            return str(value.string_value)
    return None

"""Data messages (NDATA, DDATA) into the feed: the hot path.

``decode_fast`` handles what nearly every metric is, a non-zero Float or
Double sent by alias, with one dict lookup and three appends. Everything
else (other datatypes, zero, null, a value in the wrong field, unknown
aliases, metrics with a ``Quality`` property) goes through ``decode_one``,
which checks the value field against the birth's datatype. A non-zero
float or double can only come from the field the birth named (the others
read as zero), so the fast path needs no type check.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum, auto
from typing import Any

from omp.connectors.feed import Feed
from omp.connectors.sparkplug.metrics import Kind, MetricDef, WrongValueError, read_value
from omp.connectors.sparkplug.metrics import sparkplug_quality as quality_from_code
from omp.connectors.sparkplug.nodes import Scope
from omp.core.quality import Quality


class Problem(Enum):
    UNKNOWN_METRIC = auto()
    WRONG_TYPE = auto()


def decode_fast(scope: Scope, metrics: Iterable[Any], sent_ms: int, feed: Feed) -> list[Any]:
    """Append the plain metrics to ``feed`` (GOOD, timestamps in ms: the feed's ``ts_unit``
    is 1000); returns the rest for ``decode_one``.

    ``sent_ms`` is the payload timestamp, used when a metric has none.
    """
    floats, doubles, last = scope.floats, scope.doubles, scope.last
    add_index = feed.rows_address.append
    add_ts, add_value = feed.rows_ts.append, feed.rows_value.append
    rest: list[Any] = []
    for metric in metrics:
        alias = metric.alias
        index = floats.get(alias)
        if index is not None:
            value = metric.float_value
        else:
            index = doubles.get(alias)
            if index is None:
                rest.append(metric)
                continue
            value = metric.double_value
        if not value:  # zero, absent, null or in another field: decode_one decides
            rest.append(metric)
            continue
        add_index(index)
        add_ts(metric.timestamp or sent_ms)
        add_value(value)
        last[index] = value
    return rest


def decode_one(
    scope: Scope, metric: Any, sent_ms: int, feed: Feed, *, stale: Quality, properties: bool
) -> tuple[Problem, MetricDef | None] | None:
    """Append one metric to ``feed`` after checking it; the problem when it cannot be stored.

    A null metric (``is_null``) is stored as its last value with BAD quality
    (nothing when no value is known yet); transient metrics are dropped.
    ``properties`` says whether to read a ``Quality`` property.
    """
    definition = scope.lookup(metric.name, metric.alias)
    if definition is None:
        return Problem.UNKNOWN_METRIC, None
    if definition.transient:
        return None
    index = definition.index
    ts = metric.timestamp or sent_ms
    if metric.is_null:
        previous = scope.last.get(index)
        if previous is not None:
            add(feed, definition.kind, index, ts, previous, Quality.BAD)
        return None
    try:
        value = read_value(metric, definition.kind)
    except WrongValueError:
        return Problem.WRONG_TYPE, definition
    quality = metric_quality(metric, stale) if properties else Quality.GOOD
    add(feed, definition.kind, index, ts, value, quality)
    scope.last[index] = value
    return None


def add(feed: Feed, kind: Kind, index: int, ts: int, value: float | str, quality: int) -> None:
    """One value at ``ts`` (ms since the epoch, the Sparkplug feed's unit)."""
    if kind.is_text:
        feed.add_text(index, ts, str(value), quality)
    else:
        feed.add(index, ts, float(value), quality)


def metric_quality(metric: Any, stale: Quality) -> Quality:
    """The metric's ``Quality`` property as omp's quality (GOOD when it has none)."""
    if not metric.HasField("properties"):
        return Quality.GOOD
    properties = metric.properties
    for key, value in zip(properties.keys, properties.values, strict=False):
        if key == "Quality":
            return quality_from_code(value.int_value or value.long_value, stale)
    return Quality.GOOD

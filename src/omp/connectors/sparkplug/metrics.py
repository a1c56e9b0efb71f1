"""Sparkplug datatypes, how each is read into a number or text, and metric definitions.

A birth (NBIRTH, DBIRTH) defines each metric once: name, alias, datatype and
properties. omp turns every definition into a ``MetricDef`` holding its feed
index, so data messages need only alias lookups. Int8..UInt64, Float, Double,
Boolean and DateTime (milliseconds since the epoch, as a number) become
numbers; String, Text and UUID become text. DataSet, Template, Bytes, File and
the array types are not decoded: their values are counted as wrong_type.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto
from typing import Any

from omp.core.quality import Quality


class Kind(Enum):
    """How a datatype's value is read: the payload field and the conversion."""

    FLOAT = auto()
    DOUBLE = auto()
    INT32 = auto()
    """Int8, Int16, Int32: signed, sent as two's complement in the uint32 field."""
    UINT32 = auto()
    INT64 = auto()
    UINT64 = auto()
    DATETIME = auto()
    BOOLEAN = auto()
    TEXT = auto()
    UNSUPPORTED = auto()

    @property
    def field(self) -> str:
        """The payload's value field that carries this kind ('' when none does)."""
        return _FIELDS[self]

    @property
    def is_text(self) -> bool:
        return self is Kind.TEXT


_FIELDS: dict[Kind, str] = {
    Kind.FLOAT: "float_value", Kind.DOUBLE: "double_value", Kind.INT32: "int_value",
    Kind.UINT32: "int_value", Kind.INT64: "long_value", Kind.UINT64: "long_value",
    Kind.DATETIME: "long_value", Kind.BOOLEAN: "boolean_value", Kind.TEXT: "string_value",
    Kind.UNSUPPORTED: "",
}  # fmt: skip

_KINDS: dict[int, Kind] = {
    1: Kind.INT32, 2: Kind.INT32, 3: Kind.INT32, 4: Kind.INT64,
    5: Kind.UINT32, 6: Kind.UINT32, 7: Kind.UINT32, 8: Kind.UINT64,
    9: Kind.FLOAT, 10: Kind.DOUBLE, 11: Kind.BOOLEAN, 12: Kind.TEXT,
    13: Kind.DATETIME, 14: Kind.TEXT, 15: Kind.TEXT,
}  # fmt: skip

DATATYPE_NAMES: dict[int, str] = {
    0: "Unknown", 1: "Int8", 2: "Int16", 3: "Int32", 4: "Int64", 5: "UInt8", 6: "UInt16",
    7: "UInt32", 8: "UInt64", 9: "Float", 10: "Double", 11: "Boolean", 12: "String",
    13: "DateTime", 14: "Text", 15: "UUID", 16: "DataSet", 17: "Bytes", 18: "File",
    19: "Template", 20: "PropertySet", 21: "PropertySetList",
}  # fmt: skip


def kind_of(datatype: int) -> Kind:
    return _KINDS.get(datatype, Kind.UNSUPPORTED)


def datatype_name(datatype: int) -> str:
    if 22 <= datatype <= 34:
        return "array"
    return DATATYPE_NAMES.get(datatype, f"datatype {datatype}")


class WrongValueError(Exception):
    """A metric's value is absent or not in the field its datatype names."""


def read_value(metric: Any, kind: Kind) -> float | str:
    """The metric's value as omp stores it; raises ``WrongValueError`` when it does not fit."""
    field = kind.field
    if kind is Kind.UNSUPPORTED or metric.WhichOneof("value") != field:
        raise WrongValueError(field)
    value = getattr(metric, field)
    if kind is Kind.INT32 and value >= 0x8000_0000:
        return float(value - 0x1_0000_0000)
    if kind is Kind.INT64 and value >= 0x8000_0000_0000_0000:
        return float(value - 0x1_0000_0000_0000_0000)
    if kind is Kind.TEXT:
        return str(value)
    return float(value)


def sparkplug_quality(code: int, stale: Quality) -> Quality:
    """A Sparkplug ``Quality`` property (0 bad, 192 good, 500 stale; OPC DA ranges) as omp's."""
    if code == 500:
        return stale
    if code >= 192:
        return Quality.GOOD
    return Quality.UNCERTAIN if code >= 64 else Quality.BAD


@dataclass(slots=True)
class MetricDef:
    """One metric as its birth defined it."""

    name: str
    address: str
    kind: Kind
    datatype: int
    index: int = -1
    """Feed index of the address (-1 for unsupported datatypes, which are never stored)."""
    unit: str | None = None
    transient: bool = False
    """The birth marked it ``is_transient``: of interest live, never stored (the spec's rule)."""

"""The closed vocabularies of the model: datatypes, signal kinds, protocols."""

from __future__ import annotations

from enum import StrEnum


class Datatype(StrEnum):
    BOOL = "bool"
    INT = "int"
    FLOAT = "float"
    STRING = "string"

    @property
    def is_numeric(self) -> bool:
        """Values that can carry a unit and be scaled."""
        return self in (Datatype.INT, Datatype.FLOAT)


class Kind(StrEnum):
    """What a signal's values mean; decides how they aggregate (see docs/model.md)."""

    MEASUREMENT = "measurement"
    COUNTER = "counter"
    STATE = "state"
    SETPOINT = "setpoint"
    TEXT = "text"
    EVENT = "event"

    @property
    def with_article(self) -> str:
        """For messages: ``a state``, ``an event``."""
        return f"{'an' if self.value[0] in 'aeiou' else 'a'} {self.value}"


class Protocol(StrEnum):
    OPCUA = "opcua"
    MQTT = "mqtt"
    SPARKPLUG = "sparkplug"
    MODBUS = "modbus"


ALLOWED_DATATYPES: dict[Kind, tuple[Datatype, ...]] = {
    Kind.MEASUREMENT: (Datatype.INT, Datatype.FLOAT),
    Kind.COUNTER: (Datatype.INT, Datatype.FLOAT),
    Kind.SETPOINT: (Datatype.BOOL, Datatype.INT, Datatype.FLOAT),
    Kind.STATE: (Datatype.INT, Datatype.BOOL),
    Kind.TEXT: (Datatype.STRING,),
    Kind.EVENT: (Datatype.BOOL, Datatype.INT, Datatype.STRING),
}
"""Which datatypes each kind may have."""

UNIT_KINDS = frozenset({Kind.MEASUREMENT, Kind.COUNTER, Kind.SETPOINT})
"""Kinds whose values are quantities: they carry a unit and may be scaled."""

"""Sparkplug B topics: ``spBv1.0/<group>/<verb>/<edge node>[/<device>]``, ``spBv1.0/STATE/<host>``.

>>> parse_topic("spBv1.0/packaging/DDATA/eol/pal01").device_name
'packaging/eol/pal01'
>>> parse_topic("spBv1.0/packaging/NDATA/eol").device is None
True
>>> parse_topic("spBv1.0/packaging/DDATA/eol") is None  # a device verb needs a device
True
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from omp.connectors.sparkplug.options import NAMESPACE


class Verb(StrEnum):
    NBIRTH = "NBIRTH"
    NDEATH = "NDEATH"
    NDATA = "NDATA"
    NCMD = "NCMD"
    DBIRTH = "DBIRTH"
    DDEATH = "DDEATH"
    DDATA = "DDATA"
    DCMD = "DCMD"
    STATE = "STATE"

    @property
    def is_device(self) -> bool:
        return self.value.startswith("D")


@dataclass(frozen=True, slots=True)
class Topic:
    """One parsed topic; for STATE, ``group`` holds the host id and ``node`` is empty."""

    verb: Verb
    group: str
    node: str
    device: str | None = None
    node_key: tuple[str, str] = ("", "")
    """(group, edge node): how the host keys its edge nodes, built once per topic."""

    @property
    def node_name(self) -> str:
        """How health and logs name the edge node: ``<group>/<edge node>``."""
        return f"{self.group}/{self.node}"

    @property
    def device_name(self) -> str:
        """How health and logs name the device (or the edge node for node verbs)."""
        return self.node_name if self.device is None else f"{self.node_name}/{self.device}"


def parse_topic(topic: str) -> Topic | None:
    """The topic's parts, or None when it is not a Sparkplug B topic omp understands."""
    levels = topic.split("/")
    if len(levels) < 3 or levels[0] != NAMESPACE or "" in levels:
        return None
    if levels[1] == "STATE":
        return Topic(Verb.STATE, levels[2], "") if len(levels) == 3 else None
    try:
        verb = Verb(levels[2])
    except ValueError:
        return None
    if verb is Verb.STATE or len(levels) != (5 if verb.is_device else 4):
        return None
    device = levels[4] if verb.is_device else None
    return Topic(verb, levels[1], levels[3], device, (levels[1], levels[3]))


def command_topic(group: str, node: str, device: str | None = None) -> str:
    """Where NCMD (``device`` None) or DCMD messages for one edge node or device go."""
    if device is None:
        return f"{NAMESPACE}/{group}/NCMD/{node}"
    return f"{NAMESPACE}/{group}/DCMD/{node}/{device}"

"""Write-back: a value for ``<group>/<edge node>/<device>/<metric>`` as an NCMD or DCMD.

The metric must be in the node's or device's current birth; the command
carries its name, datatype and the value in the field the datatype names.
"""

from __future__ import annotations

from typing import Any

from omp.connectors.base import WriteError, WriteValue
from omp.connectors.sparkplug.metrics import Kind, MetricDef, datatype_name
from omp.connectors.sparkplug.nodes import NODE_DEVICE, EdgeNode
from omp.connectors.sparkplug.topics import command_topic
from omp.core.wire.sparkplug_b_pb2 import Payload


def split_address(address: str) -> tuple[str, str, str | None, str]:
    """(group, edge node, device or None for node metrics, metric); ``WriteError`` if not one."""
    parts = address.split("/", 3)
    if len(parts) != 4 or "" in parts:
        raise WriteError(f"address {address!r} is not '<group>/<edge node>/<device>/<metric>'")
    group, node, device, metric = parts
    return group, node, None if device == NODE_DEVICE else device, metric


def command(
    nodes: dict[tuple[str, str], EdgeNode], address: str, value: WriteValue, now_ms: int
) -> tuple[str, bytes]:
    """The topic and payload that write ``value`` to ``address``; ``WriteError`` says why not."""
    group, node_id, device, name = split_address(address)
    node = nodes.get((group, node_id))
    if node is None or not node.online:
        raise WriteError(f"edge node {group}/{node_id} of {address!r} is not online")
    scope = node.scope if device is None else node.devices.get(device)
    definition = scope.by_name.get(name) if scope is not None else None
    if definition is None:
        raise WriteError(f"{address!r} is not a metric of the current birth")
    payload = Payload(timestamp=now_ms)
    metric = payload.metrics.add()
    metric.name, metric.timestamp, metric.datatype = name, now_ms, definition.datatype
    _set_value(metric, definition, value, address)
    return command_topic(group, node_id, device), payload.SerializeToString()


def _set_value(metric: Any, definition: MetricDef, value: WriteValue, address: str) -> None:
    kind = definition.kind
    if kind is Kind.UNSUPPORTED or (kind is Kind.TEXT) != isinstance(value, str):
        raise WriteError(
            f"{address!r} is a {datatype_name(definition.datatype)}; cannot write {value!r}"
        )
    if kind is Kind.TEXT:
        metric.string_value = value
    elif kind is Kind.BOOLEAN:
        metric.boolean_value = bool(value)
    elif kind is Kind.FLOAT:
        metric.float_value = float(value)
    elif kind is Kind.DOUBLE:
        metric.double_value = float(value)
    elif kind in (Kind.INT32, Kind.UINT32):
        metric.int_value = round(float(value)) & 0xFFFF_FFFF
    else:
        metric.long_value = round(float(value)) & 0xFFFF_FFFF_FFFF_FFFF

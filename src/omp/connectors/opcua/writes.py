"""Write-back: a value written to a node in the node's own datatype.

The DataType attribute is read once per node and cached for the session, so
a setpoint written every second costs one Write request, not a Read and a
Write. A refused write raises ``WriteError`` naming the node and the status.
"""

from __future__ import annotations

from asyncua import ua
from asyncua.client.client import Client
from asyncua.common.ua_utils import data_type_to_variant_type
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.uaerrors import UaStatusCodeError

from omp.connectors.base import WriteError, WriteValue

INTEGER_TYPES = frozenset(
    {
        ua.VariantType.SByte,
        ua.VariantType.Byte,
        ua.VariantType.Int16,
        ua.VariantType.UInt16,
        ua.VariantType.Int32,
        ua.VariantType.UInt32,
        ua.VariantType.Int64,
        ua.VariantType.UInt64,
    }
)
_FLOATS = frozenset({ua.VariantType.Float, ua.VariantType.Double})


class Writer:
    """Writes values to nodes of one session, caching each node's variant type."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._types: dict[ua.NodeId, ua.VariantType] = {}

    async def write(self, address: str, node_id: ua.NodeId, value: WriteValue) -> None:
        """Write ``value`` to ``node_id``; ``WriteError`` names ``address`` and the reason."""
        try:
            variant_type = await self._variant_type(node_id)
            variant = ua.Variant(_coerce(address, value, variant_type), variant_type)
            results = await self._client.uaclient.session.write(
                ua.WriteParameters(
                    NodesToWrite=[
                        ua.WriteValue(
                            NodeId=node_id,
                            AttributeId=AttributeIds.Value,
                            Value=ua.DataValue(variant),
                        )
                    ]
                )
            )
        except UaStatusCodeError as exc:
            raise WriteError(f"node {address}: {exc}") from exc
        except (OSError, TimeoutError) as exc:
            raise WriteError(f"node {address}: no answer from the server ({exc})") from exc
        status = results[0]
        if not status.is_good():
            raise WriteError(f"node {address}: the server refused the write ({status.name})")

    async def _variant_type(self, node_id: ua.NodeId) -> ua.VariantType:
        cached = self._types.get(node_id)
        if cached is None:
            data_type = await self._client.get_node(node_id).read_data_type()
            cached = await data_type_to_variant_type(self._client.get_node(data_type))
            self._types[node_id] = cached
        return cached


def _coerce(address: str, value: WriteValue, variant_type: ua.VariantType) -> WriteValue:
    """``value`` as the node's type wants it; ``WriteError`` when it does not fit."""
    if variant_type is ua.VariantType.Boolean and value in (0, 1, True, False):
        return bool(value)
    if variant_type in INTEGER_TYPES and not isinstance(value, str) and float(value).is_integer():
        return int(value)
    if variant_type in _FLOATS and not isinstance(value, str):
        return float(value)
    if variant_type is ua.VariantType.String:
        return str(value)
    raise WriteError(
        f"node {address}: value {value!r} does not fit its datatype {variant_type.name}"
    )

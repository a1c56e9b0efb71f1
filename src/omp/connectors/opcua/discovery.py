"""Browsing a server for ``omp discover opcua``: objects, their variables, types and units.

An object with variables under it becomes a piece of equipment; each scalar
variable of a number, bool or string datatype becomes a signal, with its
unit taken from the ``EngineeringUnits`` property. What cannot become a
signal (arrays, structures, dates) is kept with the reason, so the snippet
can say what it left out. Nodes of namespace 0 (the server's own
diagnostics) are not browsed below the root.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from asyncua import ua
from asyncua.client.client import Client
from asyncua.common.node import Node
from asyncua.common.ua_utils import data_type_to_variant_type
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.object_ids import ObjectIds
from asyncua.ua.uaerrors import UaError

from omp.connectors.opcua.units import to_ucum, unece_code
from omp.connectors.opcua.writes import INTEGER_TYPES
from omp.model.kinds import Datatype

_GENERIC_TYPES = frozenset({ObjectIds.BaseObjectType, ObjectIds.FolderType})
_DATATYPES: dict[ua.VariantType, Datatype] = {
    ua.VariantType.Boolean: Datatype.BOOL,
    ua.VariantType.Float: Datatype.FLOAT,
    ua.VariantType.Double: Datatype.FLOAT,
    ua.VariantType.String: Datatype.STRING,
    **dict.fromkeys(INTEGER_TYPES, Datatype.INT),
}


@dataclass(frozen=True, slots=True)
class FoundVariable:
    """A variable under an object: a signal, or (``skipped`` set) why it is not one."""

    name: str
    node_id: str
    datatype: Datatype | None = None
    unit: str | None = None
    unit_unmapped: str | None = None
    """The server's unit text when it has no UCUM mapping."""
    skipped: str | None = None


@dataclass(slots=True)
class FoundObject:
    """An object with variables: a piece of equipment."""

    name: str
    node_id: str
    type_name: str | None
    """The BrowseName of its type definition, when it is a specific type (not BaseObjectType)."""
    variables: list[FoundVariable] = field(default_factory=list)


async def discover(client: Client, root: ua.NodeId, depth: int) -> list[FoundObject]:
    """Every object with variables at most ``depth`` levels below ``root``."""
    found: list[FoundObject] = []
    await _walk(client.get_node(root), depth, found)
    return found


async def _walk(node: Node, depth: int, found: list[FoundObject]) -> None:
    children = await node.get_children_descriptions()
    variables = [c for c in children if c.NodeClass == ua.NodeClass.Variable]
    if variables:
        found.append(await _object(node, variables))
    if depth <= 0:
        return
    for child in children:
        if child.NodeClass != ua.NodeClass.Object or child.NodeId.NamespaceIndex == 0:
            continue
        await _walk(_near(node, child.NodeId), depth - 1, found)


async def _object(node: Node, variables: list[ua.ReferenceDescription]) -> FoundObject:
    name = (await node.read_browse_name()).Name
    definition = await node.read_type_definition()
    type_name = None
    if definition is not None and not (
        definition.NamespaceIndex == 0 and definition.Identifier in _GENERIC_TYPES
    ):
        type_name = (await _near(node, definition).read_browse_name()).Name
    found = FoundObject(name, node.nodeid.to_string(), type_name)
    for reference in variables:
        found.variables.append(await _variable(_near(node, reference.NodeId), reference))
    return found


def _near(node: Node, node_id: ua.NodeId | ua.ExpandedNodeId) -> Node:
    """Another node of the same session."""
    return Node(
        node.session, ua.NodeId(node_id.Identifier, node_id.NamespaceIndex, node_id.NodeIdType)
    )


async def _variable(node: Node, reference: ua.ReferenceDescription) -> FoundVariable:
    name, node_id = reference.BrowseName.Name, node.nodeid.to_string()
    data_type, rank = await node.read_attributes([AttributeIds.DataType, AttributeIds.ValueRank])
    if rank.Value is not None and rank.Value.Value not in (-1, -2, -3):
        return FoundVariable(name, node_id, skipped=f"an array (ValueRank {rank.Value.Value})")
    variant = None
    if data_type.Value is not None:
        try:
            variant = await data_type_to_variant_type(_near(node, data_type.Value.Value))
        except (UaError, ValueError):
            variant = None
    datatype = _DATATYPES.get(variant) if variant is not None else None
    if datatype is None:
        what = variant.name if variant is not None else "unknown"
        return FoundVariable(
            name, node_id, skipped=f"datatype {what} is not a number, bool or text"
        )
    unit, unmapped = (
        await _unit(node) if datatype in (Datatype.INT, Datatype.FLOAT) else (None, None)
    )
    return FoundVariable(name, node_id, datatype, unit, unmapped)


async def _unit(node: Node) -> tuple[str | None, str | None]:
    """(UCUM code, None), or (None, the server's text) when unmapped, or (None, None)."""
    for prop in await node.get_children_descriptions(refs=ObjectIds.HasProperty):
        if prop.BrowseName.Name != "EngineeringUnits":
            continue
        info = await _near(node, prop.NodeId).read_value()
        if not isinstance(info, ua.EUInformation):
            return None, None
        code = unece_code(int(info.UnitId))
        display = info.DisplayName.Text if info.DisplayName is not None else None
        ucum = to_ucum(code, display)
        return (ucum, None) if ucum else (None, f"{display or '?'} (UNECE {code or 'none'})")
    return None, None

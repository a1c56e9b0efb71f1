"""Source addresses of OPC UA values, and how they become NodeIds on a live session.

Three forms:

* a NodeId: ``ns=2;s=Mill01.Spindle.Temperature``, ``i=2258``, ``ns=3;g=<guid>``;
* a NodeId with a namespace URI instead of an index (survives the server
  renumbering its namespaces): ``nsu=urn:acme:machining;s=Mill01.Temperature``;
* a browse path from the Root folder, each step ``<namespace index>:<BrowseName>``
  (index 0 may be left out): ``path=/Objects/2:Machines/2:Mill01/2:Temperature``.

Browse paths and namespace URIs are resolved once per session, in one request
each, so a server that moved a node between restarts is followed.

>>> parse_address("path=/Objects/2:Machines/2:Mill01").steps
((0, 'Objects'), (2, 'Machines'), (2, 'Mill01'))
>>> parse_address("ns=2;s=Mill01.Spindle.Temperature").node_id.to_string()
'ns=2;s=Mill01.Spindle.Temperature'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from asyncua import ua
from asyncua.client.ua_session import UaSession
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.object_ids import ObjectIds
from asyncua.ua.uaerrors import UaError

from omp.core.errors import ConfigError

PATH_PREFIX = "path="
_STEP = re.compile(r"^(?:(\d+):)?([^/:][^/]*)$")


@dataclass(frozen=True, slots=True)
class NodeAddress:
    """A parsed address: exactly one of ``node_id``, ``namespace_uri`` (+ node id), ``steps``."""

    address: str
    node_id: ua.NodeId
    namespace_uri: str | None = None
    steps: tuple[tuple[int, str], ...] = ()


def parse_address(address: str) -> NodeAddress:
    """The parsed form of ``address``; ``ConfigError`` names an address that is neither form."""
    if address.startswith(PATH_PREFIX):
        return NodeAddress(address, ua.NodeId(), steps=_steps(address))
    try:
        node_id = ua.NodeId.from_string(address)
    except (ValueError, UaError) as exc:
        raise ConfigError(
            f"OPC UA address {address!r} is not a NodeId or browse path: {exc}"
        ) from None
    uri = getattr(node_id, "NamespaceUri", None)
    if uri:
        plain = ua.NodeId(node_id.Identifier, ua.Int16(0), node_id.NodeIdType)
        return NodeAddress(address, plain, namespace_uri=uri)
    return NodeAddress(address, node_id)


def _steps(address: str) -> tuple[tuple[int, str], ...]:
    body = address[len(PATH_PREFIX) :]
    parts = body.split("/")
    if len(parts) < 2 or parts[0] != "":
        raise ConfigError(
            f"browse path {address!r} must start with '/', like 'path=/Objects/2:Mill01'"
        )
    steps: list[tuple[int, str]] = []
    for part in parts[1:]:
        match = _STEP.match(part)
        if match is None:
            raise ConfigError(f"browse path {address!r}: step {part!r} is not '<ns>:<BrowseName>'")
        steps.append((int(match.group(1) or 0), match.group(2)))
    return tuple(steps)


@dataclass(frozen=True, slots=True)
class Resolution:
    """What the server made of the addresses: NodeIds by address, and the failures by address."""

    node_ids: dict[str, ua.NodeId]
    failures: dict[str, str]


async def resolve(session: UaSession, addresses: Sequence[NodeAddress]) -> Resolution:
    """Turn every address into a NodeId on this server; unknown ones land in ``failures``."""
    node_ids: dict[str, ua.NodeId] = {}
    failures: dict[str, str] = {}
    paths = [a for a in addresses if a.steps]
    with_uri = [a for a in addresses if a.namespace_uri is not None]
    for plain in addresses:
        if not plain.steps and plain.namespace_uri is None:
            node_ids[plain.address] = plain.node_id
    if with_uri:
        await _resolve_uris(session, with_uri, node_ids, failures)
    if paths:
        await _resolve_paths(session, paths, node_ids, failures)
    return Resolution(node_ids, failures)


async def _resolve_uris(
    session: UaSession,
    addresses: Sequence[NodeAddress],
    node_ids: dict[str, ua.NodeId],
    failures: dict[str, str],
) -> None:
    namespaces = await _namespace_array(session)
    index = {uri: i for i, uri in enumerate(namespaces)}
    for address in addresses:
        ns = index.get(address.namespace_uri or "")
        if ns is None:
            failures[address.address] = f"the server has no namespace {address.namespace_uri!r}"
        else:
            node = address.node_id
            node_ids[address.address] = ua.NodeId(node.Identifier, ua.Int16(ns), node.NodeIdType)


async def _namespace_array(session: UaSession) -> list[str]:
    read = ua.ReadValueId(NodeId=ua.NodeId(ua.Int32(ObjectIds.Server_NamespaceArray)))
    read.AttributeId = AttributeIds.Value
    values = await session.read(ua.ReadParameters(NodesToRead=[read]))
    return list(values[0].Value.Value) if values[0].Value is not None else []


async def _resolve_paths(
    session: UaSession,
    addresses: Sequence[NodeAddress],
    node_ids: dict[str, ua.NodeId],
    failures: dict[str, str],
) -> None:
    results = await session.translate_browsepaths_to_nodeids([_browse_path(a) for a in addresses])
    for address, result in zip(addresses, results, strict=True):
        if result.StatusCode.is_good() and result.Targets:
            target = result.Targets[0].TargetId
            node_ids[address.address] = ua.NodeId(
                target.Identifier, target.NamespaceIndex, target.NodeIdType
            )
        else:
            failures[address.address] = f"browse path not found ({result.StatusCode.name})"


def _browse_path(address: NodeAddress) -> ua.BrowsePath:
    elements = [
        ua.RelativePathElement(
            ReferenceTypeId=ua.NodeId(ua.Int32(ObjectIds.HierarchicalReferences)),
            IsInverse=False,  # type: ignore[arg-type]  # asyncua's stubs name the type, bool is what it takes
            IncludeSubtypes=True,  # type: ignore[arg-type]  # as above
            TargetName=ua.QualifiedName(name, ns),
        )
        for ns, name in address.steps
    ]
    return ua.BrowsePath(
        StartingNode=ua.NodeId(ua.Int32(ObjectIds.RootFolder)),
        RelativePath=ua.RelativePath(Elements=elements),
    )


def parse_all(addresses: Mapping[str, object]) -> tuple[list[NodeAddress], dict[str, str]]:
    """Parse every address; unparsable ones are returned by address with the reason."""
    parsed: list[NodeAddress] = []
    broken: dict[str, str] = {}
    for address in addresses:
        try:
            parsed.append(parse_address(address))
        except ConfigError as exc:
            broken[address] = str(exc)
    return parsed, broken

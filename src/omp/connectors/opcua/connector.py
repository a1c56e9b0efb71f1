"""``OpcUaConnector``: one OPC UA server, its bound nodes subscribed, values into the feed.

One ``run`` is one session: connect, resolve the addresses (browse paths and
namespace URIs), create one subscription per group exactly once, then watch
the link until it drops. A lost link (transport closed, subscription ended,
no publish response within three keepalive periods) raises
``ConnectionLostError`` naming the endpoint; the host reconnects, and the
next session creates fresh subscriptions. Nodes the server refuses are
reported per node (a health device named by the address) while the rest
keeps flowing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable

from asyncua import ua
from asyncua.client.client import Client
from asyncua.client.ua_client import UaClientState
from asyncua.ua.uaerrors import UaError

from omp.connectors.base import (
    ConnectionLostError,
    ConnectorSpec,
    Options,
    Session,
    WriteError,
    WriteValue,
)
from omp.connectors.opcua import subscriptions
from omp.connectors.opcua.addresses import NodeAddress, parse_address, parse_all, resolve
from omp.connectors.opcua.link import close_client, endpoint_name, open_client
from omp.connectors.opcua.notifications import Notifications, Target
from omp.connectors.opcua.options import OpcUaOptions
from omp.connectors.opcua.writes import Writer
from omp.core.errors import ConfigError

WATCH_INTERVAL_S = 1.0
"""How often the link is checked between notifications."""


class OpcUaConnector:
    """See the module docstring; made by ``PLUGIN.create`` from a connector spec."""

    def __init__(self, spec: ConnectorSpec[Options]) -> None:
        assert isinstance(spec.options, OpcUaOptions)  # the host validated them with our schema
        self._spec = spec
        self._options: OpcUaOptions = spec.options
        self._where = endpoint_name(spec.options)
        self._writer: Writer | None = None
        self._node_ids: dict[str, ua.NodeId] = {}
        self._bad_nodes: set[str] = set()

    async def run(self, session: Session) -> None:
        parsed, broken = parse_all(self._spec.bindings)
        for address, reason in broken.items():
            self._bad_node(session, address, reason)
        client = await open_client(self._options, name=self._spec.name)
        try:
            notifications = await self._subscribe(client, session, parsed)
            self._writer = Writer(client)
            session.health.connected()
            await self._watch(client, notifications)
        except UaError as exc:
            raise ConnectionLostError(f"OPC UA server {self._where}: {exc}") from exc
        finally:
            self._writer = None
            await close_client(client)

    async def write(self, address: str, value: WriteValue) -> None:
        """Write ``value`` to the node of ``address`` in the node's datatype."""
        writer, node_id = self._writer, self._node_ids.get(address)
        if writer is None:
            raise WriteError(f"OPC UA server {self._where}: not connected, cannot write {address}")
        if node_id is None:
            node_id = _plain_node_id(address)
        await writer.write(address, node_id, value)

    async def _subscribe(
        self, client: Client, session: Session, parsed: list[NodeAddress]
    ) -> Notifications:
        resolution = await resolve(client.uaclient.session, parsed)
        for address, reason in resolution.failures.items():
            self._bad_node(session, address, reason)
        self._node_ids = resolution.node_ids
        targets, groups = self._plan(session, resolution.node_ids)
        notifications = Notifications(session.feed, session.health, session.clock, targets)
        client.connection_lost_callback = notifications.link_lost
        keepalive = 0.0
        for group, items in groups.items():
            created = await subscriptions.create(
                client.uaclient.session,
                self._options.subscription(group),
                items,
                notifications.on_publish,
            )
            keepalive = max(keepalive, created.keepalive_s)
            for address, reason in created.failures.items():
                self._bad_node(session, address, reason)
            self._recovered(session, (i.address for i in items), created.failures)
        notifications.stale_after = 3 * keepalive + self._options.request_timeout / 1e6
        return notifications

    def _plan(
        self, session: Session, node_ids: dict[str, ua.NodeId]
    ) -> tuple[list[Target], dict[str | None, list[subscriptions.Item]]]:
        """Feed indexes (the client handles) and the items of each group."""
        targets: list[Target] = []
        groups: dict[str | None, list[subscriptions.Item]] = {}
        for address, node_id in node_ids.items():
            group = self._spec.bindings[address].group
            if group is not None and group not in self._options.groups:
                session.health.error(
                    f"node {address}: group {group!r} is not under the connector's groups; "
                    "subscribed with the connector's defaults"
                )
                group = None
            item = subscriptions.Item(len(targets), address, node_id)
            targets.append(Target(session.feed.address(address), address))
            groups.setdefault(group, []).append(item)
        return targets, groups

    async def _watch(self, client: Client, notifications: Notifications) -> None:
        """Return never; raise ``ConnectionLostError`` once the link or a subscription is gone."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(notifications.lost.wait(), WATCH_INTERVAL_S)
            if notifications.lost.is_set():
                raise ConnectionLostError(f"OPC UA server {self._where}: {notifications.reason}")
            if client.uaclient.state is not UaClientState.CONNECTED:
                raise ConnectionLostError(f"OPC UA server {self._where}: the connection closed")
            silent = time.monotonic() - notifications.last_publish
            if notifications.stale_after and silent > notifications.stale_after:
                raise ConnectionLostError(
                    f"OPC UA server {self._where}: no publish response for {silent:.0f} s"
                )

    def _bad_node(self, session: Session, address: str, reason: str) -> None:
        self._bad_nodes.add(address)
        session.health.lost(f"node {address}: {reason}", device=address)

    def _recovered(
        self, session: Session, addresses: Iterable[str], failures: dict[str, str]
    ) -> None:
        for address in addresses:
            if address in self._bad_nodes and address not in failures:
                self._bad_nodes.discard(address)
                session.health.connected(device=address)


def _plain_node_id(address: str) -> ua.NodeId:
    try:
        parsed = parse_address(address)
    except ConfigError as exc:
        raise WriteError(str(exc)) from None
    if parsed.steps or parsed.namespace_uri is not None:
        raise WriteError(f"node {address}: not resolved on this session (not bound)")
    return parsed.node_id

"""Fresh subscriptions for one session: one per group, monitored items in chunks.

Called exactly once per connected session; nothing here retries or
re-creates, so a reconnect (a new session from the host) never leaves a
duplicate subscription behind on the server. A node the server refuses
(``BadNodeIdUnknown`` and friends) is returned as a failure naming the node;
the others are monitored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from asyncua import ua
from asyncua.client.ua_session import UaSession
from asyncua.ua.attribute_ids import AttributeIds

from omp.connectors.opcua.notifications import PublishCallback
from omp.connectors.opcua.options import Deadband, Subscription

CHUNK = 1000
"""Monitored items per CreateMonitoredItems request (well inside common server limits)."""
KEEPALIVE_S = 5.0
"""A publish response (data or keepalive) at least this often, so a dead link shows."""


@dataclass(frozen=True, slots=True)
class Item:
    """One node to monitor; ``handle`` is its position in the notification targets."""

    handle: int
    address: str
    node_id: ua.NodeId


@dataclass(frozen=True, slots=True)
class Created:
    """The subscription the server made, its keepalive period and the nodes it refused."""

    subscription_id: int
    keepalive_s: float
    failures: dict[str, str]


async def create(
    session: UaSession, settings: Subscription, items: Sequence[Item], callback: PublishCallback
) -> Created:
    """Create one subscription with ``items``; ``UaStatusCodeError`` if the server refuses it."""
    result = await session.create_subscription(_parameters(settings), callback)
    revised_ms = max(float(result.RevisedPublishingInterval), 1.0)
    keepalive_s = revised_ms * max(int(result.RevisedMaxKeepAliveCount), 1) / 1000
    failures: dict[str, str] = {}
    for start in range(0, len(items), CHUNK):
        chunk = items[start : start + CHUNK]
        params = ua.CreateMonitoredItemsParameters(
            SubscriptionId=result.SubscriptionId,
            TimestampsToReturn=ua.TimestampsToReturn.Both,
            ItemsToCreate=[_request(item, settings) for item in chunk],
        )
        for item, outcome in zip(chunk, await session.create_monitored_items(params), strict=True):
            if not outcome.StatusCode.is_good():
                failures[item.address] = outcome.StatusCode.name
    return Created(result.SubscriptionId, keepalive_s, failures)


def _parameters(settings: Subscription) -> ua.CreateSubscriptionParameters:
    interval = max(settings.publishing_ms, 1.0)
    keepalive = max(1, math.ceil(KEEPALIVE_S * 1000 / interval))
    return ua.CreateSubscriptionParameters(
        RequestedPublishingInterval=settings.publishing_ms,
        RequestedLifetimeCount=keepalive * 3,
        RequestedMaxKeepAliveCount=keepalive,
        MaxNotificationsPerPublish=0,  # no limit: the server sends what it has in one message
        PublishingEnabled=True,
        Priority=0,
    )


def _request(item: Item, settings: Subscription) -> ua.MonitoredItemCreateRequest:
    read = ua.ReadValueId(NodeId=item.node_id, AttributeId=AttributeIds.Value)
    parameters = ua.MonitoringParameters(
        ClientHandle=item.handle,
        SamplingInterval=settings.sampling_ms,
        QueueSize=settings.queue_size,
        DiscardOldest=True,
    )
    if settings.deadband is not None:
        parameters.Filter = _deadband_filter(settings.deadband)
    return ua.MonitoredItemCreateRequest(
        ItemToMonitor=read,
        MonitoringMode=ua.MonitoringMode.Reporting,
        RequestedParameters=parameters,
    )


def _deadband_filter(deadband: Deadband) -> ua.DataChangeFilter:
    kind = ua.DeadbandType.Absolute if deadband.type == "absolute" else ua.DeadbandType.Percent
    return ua.DataChangeFilter(
        Trigger=ua.DataChangeTrigger.StatusValue, DeadbandType=kind, DeadbandValue=deadband.value
    )

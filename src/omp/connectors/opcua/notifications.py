"""The hot path: a whole ``PublishResult`` at a time, straight into the feed.

The connector registers this as the raw publish callback of each
subscription, so a server message carrying a thousand data changes costs one
call, not a thousand handler tasks. Each monitored item's client handle is
its position in ``targets``, precomputed when the items are created, so a
value needs no lookup beyond a list index.

Timestamps: the source timestamp, else the server timestamp, else the time
of receipt. Quality is the StatusCode's severity (its top two bits: Good,
Uncertain, Bad). Numbers and booleans go to ``feed.add``, strings to
``feed.add_text``; arrays, structures and other non-scalars are refused as
``wrong_type`` with the node named.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from asyncua import ua

from omp.connectors.feed import Feed
from omp.connectors.health import ConnectorHealth
from omp.core.errors import BackpressureError
from omp.core.quality import Quality
from omp.core.rejects import RejectReason
from omp.core.time import Clock

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_NAN = float("nan")
_BAD = int(Quality.BAD)
BACKPRESSURE_POLL_S = 0.02


@dataclass(frozen=True, slots=True)
class Target:
    """Where one monitored item's values go: its feed index and its address (for errors)."""

    index: int
    address: str


class Notifications:
    """Receives publish results for every subscription of one session; see the module doc.

    ``lost`` is set (with ``reason``) when the server reports a subscription as
    gone (a Bad StatusChangeNotification, which asyncua also sends itself when
    the transport drops).
    """

    def __init__(
        self, feed: Feed, health: ConnectorHealth, clock: Clock, targets: Sequence[Target]
    ) -> None:
        self._feed = feed
        self._health = health
        self._clock = clock
        self._targets = targets
        self.lost = asyncio.Event()
        self.reason = ""
        self.last_publish = time.monotonic()
        self.stale_after = 0.0
        """Seconds without any publish response after which the link counts as dead (0: never)."""

    async def link_lost(self, error: Exception) -> None:
        """asyncua's connection-lost callback: the transport or its health probe failed."""
        self._lose(f"link lost: {str(error) or 'no answer'} ({type(error).__name__})")

    def on_publish(self, result: ua.PublishResult) -> Coroutine[Any, Any, None] | None:
        """The raw callback asyncua's publish loop calls with each response (keepalives too).

        Returns nothing, except under backpressure: then a coroutine that the publish loop
        awaits before it asks the server for more, so omp stops reading (the server keeps
        up to ``queue_size`` changes per node meanwhile) instead of piling rows up.
        """
        self.last_publish = time.monotonic()
        data = result.NotificationMessage.NotificationData
        if not data:
            return None
        for notification in data:
            if type(notification) is ua.DataChangeNotification:
                self._data_changes(notification.MonitoredItems)
            elif isinstance(notification, ua.StatusChangeNotification):
                self._status_change(result.SubscriptionId, notification.Status)
        feed = self._feed
        if feed.pending >= feed.max_points:
            try:
                feed.flush()
            except BackpressureError:
                return self._room()
        return None

    async def _room(self) -> None:
        """Wait until the host's flusher has drained the feed below its limit."""
        feed = self._feed
        while feed.pending >= feed.max_points and not self.lost.is_set():
            await asyncio.sleep(BACKPRESSURE_POLL_S)

    def _data_changes(self, items: Sequence[ua.MonitoredItemNotification]) -> None:
        feed, targets = self._feed, self._targets
        add, add_text = feed.add, feed.add_text
        now: int | None = None
        refused = 0
        for item in items:
            value_data = item.Value
            target = targets[item.ClientHandle]
            stamp = value_data.SourceTimestamp or value_data.ServerTimestamp
            if stamp is not None:
                ts = (stamp - _EPOCH) // _MICROSECOND
            else:
                ts = now = now or self._clock()
            status = value_data.StatusCode
            quality = min(status.value >> 30, _BAD) if status is not None else 0
            variant = value_data.Value
            value: Any = variant.Value if variant is not None else None
            kind: type[Any] = type(value)
            if kind is float or kind is int or kind is bool:
                add(target.index, ts, value, quality)
            elif kind is str:
                add_text(target.index, ts, value, quality)
            elif value is None and quality:
                add(target.index, ts, _NAN, quality)  # a Bad value without a value: keep the Bad
            else:
                refused += 1
                self._refuse(target, value)
        self._health.received(len(items) - refused)

    def _refuse(self, target: Target, value: object) -> None:
        self._feed.reject(RejectReason.WRONG_TYPE, source=target.address)
        self._health.error(
            f"node {target.address}: value of type {type(value).__name__} is not a number, "
            "bool or string"
        )

    def _status_change(self, subscription_id: int, status: ua.StatusCode) -> None:
        if status.is_good():
            return
        self._lose(f"subscription {subscription_id} ended: {status.name}")

    def _lose(self, reason: str) -> None:
        if not self.lost.is_set():  # the first cause is the one worth naming
            self.reason = reason
            self.lost.set()


PublishCallback = Callable[[ua.PublishResult], Coroutine[Any, Any, None] | None]

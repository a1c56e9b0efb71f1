"""Rebirth requests: NCMD ``Node Control/Rebirth`` = true, at most one per node per interval.

>>> payload = rebirth_payload(1_700_000_000_000)
>>> [(m.name, m.boolean_value) for m in payload.metrics], payload.HasField("seq")
([('Node Control/Rebirth', True)], False)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from omp.connectors.sparkplug.nodes import EdgeNode
from omp.connectors.sparkplug.topics import command_topic
from omp.core.time import Clock
from omp.core.wire.sparkplug_b_pb2 import Payload

REBIRTH = "Node Control/Rebirth"
BOOLEAN = 11

Publish = Callable[[str, bytes], None]


def rebirth_payload(now_ms: int) -> Any:
    """An NCMD payload asking for a rebirth (commands carry a timestamp, never a seq)."""
    payload = Payload(timestamp=now_ms)
    metric = payload.metrics.add()
    metric.name, metric.timestamp, metric.datatype = REBIRTH, now_ms, BOOLEAN
    metric.boolean_value = True
    return payload


class Rebirths:
    """Sends rebirth requests, rate-limited per edge node; ``publish`` None means passive."""

    def __init__(
        self, publish: Publish | None, *, min_interval_us: int, clock: Clock, log: logging.Logger
    ) -> None:
        self._publish = publish
        self._min_interval_us = min_interval_us
        self._clock = clock
        self._log = log
        self.sent = 0

    def request(self, node: EdgeNode, why: str) -> bool:
        """Ask ``node`` for a rebirth unless one was asked for recently; True when sent."""
        now = self._clock()
        if self._publish is None or (
            node.last_rebirth is not None and now - node.last_rebirth < self._min_interval_us
        ):
            return False
        node.last_rebirth = now
        self._publish(
            command_topic(node.group, node.node), rebirth_payload(now // 1000).SerializeToString()
        )
        self.sent += 1
        self._log.info("asked edge node %s for a rebirth: %s", node.name, why)
        return True

"""``AckGate``: a QoS 1 message is acknowledged only once its values are submitted.

Each message's handler decodes into the feed and then awaits ``submitted()``.
The first waiter schedules one flush for the next turn of the event loop, so
every message decoded from the same read (hundreds at full rate) shares one
submit and their PUBACKs go out together; nothing waits for the host's
periodic flush. When the sink refuses (backpressure, a failing historian)
the rows stay in the feed and the waiters keep waiting: the broker holds the
messages, and stops sending once the in-flight window is full.
"""

from __future__ import annotations

import asyncio

from omp.connectors.feed import Feed
from omp.connectors.health import ConnectorHealth
from omp.core.errors import BackpressureError

RETRY_DELAY = 0.02
"""Seconds before a refused submit is tried again."""


class AckGate:
    """Flushes the feed for waiting messages and releases them once it succeeded."""

    def __init__(self, feed: Feed, health: ConnectorHealth) -> None:
        self._feed = feed
        self._health = health
        self._waiting: asyncio.Future[None] | None = None
        self._retry: asyncio.TimerHandle | None = None

    def submitted(self) -> asyncio.Future[None]:
        """Resolves once every row in the feed now has been submitted to the sink."""
        if self._waiting is None:
            loop = asyncio.get_running_loop()
            self._waiting = loop.create_future()
            loop.call_soon(self._flush)
        return self._waiting

    @property
    def waiting(self) -> bool:
        return self._waiting is not None

    def release(self) -> None:
        """Let every waiter go without a flush: the link is gone (their acks go nowhere)."""
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        waiting, self._waiting = self._waiting, None
        if waiting is not None and not waiting.done():
            waiting.set_result(None)

    def try_flush(self) -> bool:
        """Flush now; True (and the waiters released) when everything was submitted."""
        try:
            self._feed.flush()
        except BackpressureError as exc:
            self._health.error(f"historian backpressure, not acknowledging: {exc}")
            return False
        except Exception as exc:  # a failing sink holds the acks back; the host logs it
            self._health.error(f"submitting values failed, not acknowledging: {exc}")
            return False
        self.release()
        return True

    def _flush(self) -> None:
        self._retry = None
        if self._waiting is not None and not self.try_flush():
            self._retry = asyncio.get_running_loop().call_later(RETRY_DELAY, self._flush)

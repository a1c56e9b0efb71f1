"""What the publisher reports in ``health()``; written by the publisher thread only."""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger("omp.connectors.uns")


@dataclass(slots=True)
class PublisherStats:
    """Counters and the link state. Logs transitions (first failure, recovery), not repeats."""

    broker: str
    connected: bool = False
    published: int = 0
    events_published: int = 0
    errors: int = 0
    last_error: str | None = None
    _failing: bool = False

    def up(self) -> None:
        self.connected = True
        if self._failing:
            log.info("UNS publisher reconnected to %s", self.broker)
        else:
            log.info("UNS publisher connected to %s", self.broker)
        self._failing = False

    def failed(self, message: str) -> None:
        self.connected = False
        self.errors += 1
        self.last_error = message
        if not self._failing:
            log.warning("UNS publisher: %s; retrying with backoff", message)
        self._failing = True

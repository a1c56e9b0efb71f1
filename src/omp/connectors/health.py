"""Health of connectors and the devices behind them.

A connector reports through its ``ConnectorHealth``: link up or lost, values
received, errors. The record logs transitions (connected, lost, recovered)
once each, never every retry, and hands out plain-dict snapshots for the
API. Updates come from the connector's own thread; snapshots may be taken
from any thread.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from omp.core.time import Clock, to_rfc3339

log = logging.getLogger("omp.connectors")


class LinkState(StrEnum):
    STARTING = "starting"
    CONNECTED = "connected"
    LOST = "lost"
    """The link dropped, or never came up; the host is backing off before the next try."""
    STOPPED = "stopped"


@dataclass(slots=True)
class DeviceHealth:
    """One device (server, unit id, edge node) behind a connector."""

    state: LinkState = LinkState.STARTING
    since: int = 0
    last_value_ts: int | None = None
    messages: int = 0
    values: int = 0
    errors: int = 0
    last_error: str | None = None
    last_error_ts: int | None = None

    def snapshot(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "since": _time(self.since),
            "last_value": _time(self.last_value_ts),
            "messages": self.messages,
            "values": self.values,
            "errors": self.errors,
            "last_error": self.last_error,
            "last_error_at": _time(self.last_error_ts),
        }


@dataclass(slots=True)
class _Counters:
    restarts: int = 0
    crashes: int = 0
    devices: dict[str, DeviceHealth] = field(default_factory=dict)


class ConnectorHealth:
    """The health record of one connector; ``device=None`` means the connector's own link."""

    def __init__(self, name: str, clock: Clock) -> None:
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._link = DeviceHealth(since=clock())
        self._ever_connected = False
        self._counters = _Counters()

    @property
    def state(self) -> LinkState:
        return self._link.state

    @property
    def is_connected(self) -> bool:
        return self._link.state is LinkState.CONNECTED

    def connected_for(self) -> int:
        """Microseconds the link has been up (0 when it is not)."""
        link = self._link
        return self._clock() - link.since if link.state is LinkState.CONNECTED else 0

    def connected(self, device: str | None = None) -> None:
        """The link (or one device) is up: logs 'connected' the first time, then 'recovered'."""
        with self._lock:
            record = self._record(device)
            if record.state is LinkState.CONNECTED:
                return
            was_lost = record.state is LinkState.LOST
            record.state, record.since = LinkState.CONNECTED, self._clock()
            first = device is None and not self._ever_connected
            if device is None:
                self._ever_connected = True
        what = self._what(device)
        if was_lost and not first:
            log.info("%s recovered", what)
        else:
            log.info("%s connected", what)

    def lost(self, error: str, device: str | None = None) -> None:
        """The link (or one device) is gone; logged once per loss, not per retry."""
        with self._lock:
            record = self._record(device)
            self._note_error(record, error)
            if record.state is LinkState.LOST:
                return
            record.state, record.since = LinkState.LOST, self._clock()
            if device is None:  # every device behind a lost link is lost with it
                for other in self._counters.devices.values():
                    if other.state is LinkState.CONNECTED:
                        other.state, other.since = LinkState.LOST, self._clock()
        log.warning("%s lost: %s", self._what(device), error)

    def stopped(self) -> None:
        with self._lock:
            self._link.state, self._link.since = LinkState.STOPPED, self._clock()
            for record in self._counters.devices.values():
                record.state, record.since = LinkState.STOPPED, self._clock()

    def received(self, values: int, *, device: str | None = None, messages: int = 1) -> None:
        """``messages`` messages (reads, notifications) carrying ``values`` values arrived."""
        now = self._clock()
        with self._lock:
            for record in (self._link, self._record(device)) if device else (self._link,):
                record.messages += messages
                record.values += values
                record.last_value_ts = now

    def error(self, message: str, *, device: str | None = None) -> None:
        """Bad input or a failed request that did not cost the link; counted, not logged."""
        with self._lock:
            self._note_error(self._link, message)
            if device is not None:
                self._note_error(self._record(device), message)

    def restarted(self, *, crashed: bool) -> None:
        with self._lock:
            self._counters.restarts += 1
            self._counters.crashes += int(crashed)

    def device_state(self, device: str) -> LinkState:
        with self._lock:
            record = self._counters.devices.get(device)
            return record.state if record is not None else LinkState.STARTING

    def snapshot(self) -> dict[str, Any]:
        """A plain dict for the health API: the link, counters, and each device."""
        with self._lock:
            report = self._link.snapshot()
            report["restarts"] = self._counters.restarts
            report["crashes"] = self._counters.crashes
            report["devices"] = {
                name: record.snapshot() for name, record in sorted(self._counters.devices.items())
            }
        return report

    def _record(self, device: str | None) -> DeviceHealth:
        if device is None:
            return self._link
        record = self._counters.devices.get(device)
        if record is None:
            record = self._counters.devices[device] = DeviceHealth(since=self._clock())
        return record

    def _note_error(self, record: DeviceHealth, message: str) -> None:
        record.errors += 1
        record.last_error, record.last_error_ts = message, self._clock()

    def _what(self, device: str | None) -> str:
        return f"connector {self.name!r}" + (f" device {device!r}" if device else "")


def _time(micros: int | None) -> str | None:
    return None if micros is None else to_rfc3339(micros)

"""Models, a STATE watcher and a standard edge node for the Sparkplug host tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from omp.connectors.sparkplug import PLUGIN
from omp.model.kinds import Protocol
from tests.connectors.sparkplug.edge import (
    BOOLEAN,
    DATETIME,
    DOUBLE,
    FLOAT,
    INT8,
    INT32,
    STRING,
    UINT64,
    EdgeNode,
    MetricSpec,
)

PLUGINS = {Protocol.SPARKPLUG: PLUGIN}
HOST_ID = "omp-test"
GROUP, NODE, DEVICE = "pack", "eol", "pal01"
PREFIX = f"{GROUP}/{NODE}/{DEVICE}/"
NODE_PREFIX = f"{GROUP}/{NODE}/_node/"

NODE_METRICS = (MetricSpec("Supply Voltage", FLOAT, 1, 24.0, unit="V"),)
DEVICE_METRICS = (
    MetricSpec("Drive/Current", FLOAT, 10, 5500.0, unit="mA"),
    MetricSpec("Temp", DOUBLE, 11, 20.25, unit="°C"),
    MetricSpec("Count", INT32, 12, -3),
    MetricSpec("Big", UINT64, 13, 2**40),
    MetricSpec("Running", BOOLEAN, 14, True),
    MetricSpec("Recipe", STRING, 15, "A-1"),
    MetricSpec("Stamp", DATETIME, 16, 1_700_000_000_000),
    MetricSpec("Small", INT8, 17, -7),
    MetricSpec("Speed SP", FLOAT, 18, 10.0, unit="/min"),
)


def model(url: str, *, options: str = "", rules: str = "", bindings: str = "") -> str:
    """One palletizer and one Sparkplug connector ``spb`` with host id ``omp-test``."""
    return f"""
enterprise: acme
equipment_types:
  palletizer:
    signals:
      drive_current: {{unit: A}}
      temp: {{unit: Cel}}
      speed_sp: {{unit: /min, kind: setpoint}}
connectors:
  spb:
    protocol: sparkplug
    url: {url}
    host_id: {HOST_ID}
    rebirth: {{min_interval: 200ms}}
{options}
{rules}
sites:
  munich:
    timezone: Europe/Berlin
    areas:
      packaging:
        lines:
          eol:
            cells:
              cell:
                equipment:
                  pal01:
                    type: palletizer
                    connector: spb
{bindings}
"""


def edge_node(port: int, **kwargs: Any) -> EdgeNode:
    return EdgeNode(
        port, GROUP, NODE, node_metrics=NODE_METRICS, devices={DEVICE: DEVICE_METRICS}, **kwargs
    )


@dataclass
class StateWatcher:
    """Every STATE message on the host's topic, as parsed JSON (retained ones included)."""

    seen: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def states(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.seen)

    def last(self) -> dict[str, Any] | None:
        states = self.states()
        return states[-1] if states else None


@contextmanager
def watch_state(port: int) -> Iterator[StateWatcher]:
    watcher = StateWatcher()
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="state-watcher")
    client.reconnect_delay_set(min_delay=0.05, max_delay=0.5)

    def on_message(_c: Any, _u: Any, message: paho.MQTTMessage) -> None:
        with watcher.lock:
            watcher.seen.append(json.loads(message.payload) | {"retain": bool(message.retain)})

    client.on_message = on_message
    client.on_connect = lambda c, *_: c.subscribe(f"spBv1.0/STATE/{HOST_ID}", 1)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        yield watcher
    finally:
        client.disconnect()
        client.loop_stop()

"""A model, a paho subscriber that records what the UNS publisher sends, and a historian fake."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho

from omp.core.batch import PointBatch, TextBatch
from omp.core.events import Event

MODEL = """
enterprise: acme
connectors:
  plc: {protocol: opcua, endpoint: "opc.tcp://127.0.0.1:4840"}
equipment_types:
  oven:
    signals:
      temp: {unit: Cel}
      parts: {datatype: int, kind: counter, unit: "{parts}"}
      door: {datatype: bool, kind: state, states: {0: closed, 1: open}}
      mode: {datatype: int, kind: state, states: {1: idle, 2: running}}
      order: {datatype: string, kind: text}
sites:
  s1:
    timezone: Europe/Berlin
    areas:
      a:
        lines:
          l:
            cells:
              c:
                equipment:
                  oven_1:
                    type: oven
                    connector: plc
                    bindings:
                      temp: {address: "ns=2;s=T1", unit: "[degF]"}
"""
OVEN = "acme/s1/a/l/c/oven_1"


@dataclass(frozen=True)
class Message:
    topic: str
    body: dict[str, Any]
    retain: bool


@dataclass
class Recorder:
    """What a real paho subscriber received, in order."""

    messages: list[Message] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_message(self, client: Any, userdata: Any, message: paho.MQTTMessage) -> None:
        with self.lock:
            self.messages.append(
                Message(message.topic, json.loads(message.payload), bool(message.retain))
            )

    def on(self, topic: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if m.topic == topic]

    def values(self, topic: str) -> list[Any]:
        return [m.body["value"] for m in self.on(topic)]


@contextmanager
def subscribed(port: int, topic: str = "omp/v1/#") -> Iterator[Recorder]:
    """A paho client subscribed to ``topic`` until the block ends."""
    recorder = Recorder()
    ready = threading.Event()
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
    client.on_message = recorder.on_message
    client.on_subscribe = lambda *_: ready.set()
    client.connect("127.0.0.1", port)
    client.subscribe(topic, qos=1)
    client.loop_start()
    try:
        assert ready.wait(5), "subscription not acknowledged"
        yield recorder
    finally:
        client.disconnect()
        client.loop_stop()


@dataclass
class NullHistorian:
    """Ingest's historian sink that keeps nothing (the UNS tests look at the bus side)."""

    batches: int = 0

    def write(self, batch: PointBatch | TextBatch, *, timeout: float | None = None) -> None:
        self.batches += 1

    def write_events(self, events: Sequence[Event], *, timeout: float | None = None) -> None:
        pass

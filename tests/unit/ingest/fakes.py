"""A small real model for ingest tests, and a recording historian sink."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from omp.core.batch import PointBatch, TextBatch
from omp.core.errors import BackpressureError
from omp.core.events import Event
from omp.model import Registry, compile_model, parse_model
from tests.unit.model.conftest import DictIds

MODEL = """
enterprise: acme
connectors:
  plc: {protocol: opcua, endpoint: "opc.tcp://127.0.0.1:4840"}
  regs: {protocol: modbus, host: 127.0.0.1}
equipment_types:
  oven:
    signals:
      temp: {unit: Cel}
      pressure: {unit: kPa}
      parts: {datatype: int, kind: counter, unit: "{parts}"}
      door: {datatype: bool, kind: state, states: {0: closed, 1: open}}
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
                      pressure: {address: "ns=2;s=P1", unit: bar}
                      parts: "ns=2;s=N1"
                      order: "ns=2;s=S1"
                  oven_2:
                    type: oven
                    connector: regs
                    bindings:
                      temp: {address: "input:30001:int16", scale: 0.1}
"""
PREFIX = "acme/s1/a/l/c/oven_1/"


def make_registry(text: str = MODEL, ids: DictIds | None = None) -> Registry:
    return compile_model(parse_model(text), ids=ids or DictIds())


class RecordingHistorian:
    """Records writes; with ``capacity`` it refuses (like a full queue) once that many are held."""

    def __init__(self, capacity: int | None = None) -> None:
        self.batches: list[PointBatch | TextBatch] = []
        self.events: list[Event] = []
        self.capacity = capacity
        self.lock = threading.Lock()

    def write(self, batch: PointBatch | TextBatch, *, timeout: float | None = None) -> None:
        with self.lock:
            if self.capacity is not None and len(self.batches) >= self.capacity:
                raise BackpressureError(f"historian queue full for {timeout} s")
            self.batches.append(batch)

    def write_events(self, events: Sequence[Event], *, timeout: float | None = None) -> None:
        self.events.extend(events)

"""A Sparkplug B 3.0 edge node for tests (and, later, the simulator): paho-mqtt underneath.

It follows the edge node rules of the specification:

* the MQTT will is the NDEATH (QoS 1, not retained) carrying ``bdSeq``;
* NBIRTH has seq 0, the same ``bdSeq`` metric and ``Node Control/Rebirth`` = false;
  DBIRTHs follow it, then DATA; seq runs 0-255 and wraps across NBIRTH, DBIRTH,
  NDATA, DDATA and DDEATH; NDEATH carries no seq;
* births carry names and aliases, data carries aliases only, every metric a timestamp;
* an NCMD ``Node Control/Rebirth`` = true is answered with the full birth sequence and
  the same ``bdSeq``; a new MQTT session (after a broker restart) uses the next ``bdSeq``;
* with ``primary_host`` set, births wait for that host's STATE ``online: true``.

The host under test is gmqtt-based; this node is paho, so the two meet only on the wire.
Test hooks break the rules on purpose: ``skip_seq`` (a gap), ``publish_raw`` (anything).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from omp.core.wire.sparkplug_b_pb2 import Payload

INT8, INT16, INT32, INT64 = 1, 2, 3, 4
UINT8, UINT16, UINT32, UINT64 = 5, 6, 7, 8
FLOAT, DOUBLE, BOOLEAN, STRING, DATETIME, TEXT = 9, 10, 11, 12, 13, 14
DATASET, TEMPLATE = 16, 19

Value = float | int | bool | str


@dataclass(frozen=True)
class MetricSpec:
    """One metric an edge node or device publishes."""

    name: str
    datatype: int
    alias: int
    value: Value
    unit: str | None = None
    """Sent as the ``engUnit`` property in births."""
    transient: bool = False
    """Marked ``is_transient`` in births: hosts should not historise it."""


def set_value(metric: Any, datatype: int, value: Value) -> None:
    """Put ``value`` in the field the specification assigns to ``datatype``."""
    if datatype in (INT8, INT16, INT32, UINT8, UINT16, UINT32):
        metric.int_value = int(value) & 0xFFFF_FFFF
    elif datatype in (INT64, UINT64, DATETIME):
        metric.long_value = int(value) & 0xFFFF_FFFF_FFFF_FFFF
    elif datatype == FLOAT:
        metric.float_value = float(value)
    elif datatype == DOUBLE:
        metric.double_value = float(value)
    elif datatype == BOOLEAN:
        metric.boolean_value = bool(value)
    elif datatype in (STRING, TEXT):
        metric.string_value = str(value)
    elif datatype == DATASET:
        metric.dataset_value.num_of_columns = 1
        metric.dataset_value.columns.append("x")
        metric.dataset_value.types.append(DOUBLE)
    elif datatype == TEMPLATE:
        metric.template_value.is_definition = False
        metric.template_value.template_ref = "Motor"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class EdgeNode:
    """See the module docstring. ``start`` connects and births; ``stop`` sends NDEATH."""

    port: int
    group: str
    node: str
    node_metrics: Sequence[MetricSpec] = ()
    devices: Mapping[str, Sequence[MetricSpec]] = field(default_factory=dict)
    bd_seq: int = 0
    primary_host: str | None = None
    rebirth_requests: int = 0
    births: int = 0
    commands: list[tuple[str, str, Value]] = field(default_factory=list)
    """(topic, metric name, value) of every NCMD/DCMD other than a rebirth."""

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._seq = 0
        self._born = threading.Event()
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=f"edge-{self.group}-{self.node}"
        )
        self._client.reconnect_delay_set(min_delay=0.05, max_delay=0.5)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._set_will()

    # -- topics ----------------------------------------------------------------------

    def topic(self, verb: str, device: str | None = None) -> str:
        base = f"spBv1.0/{self.group}/{verb}/{self.node}"
        return base if device is None else f"{base}/{device}"

    # -- lifecycle -------------------------------------------------------------------

    def start(self, *, wait: bool = True) -> EdgeNode:
        self._client.connect("127.0.0.1", self.port, keepalive=5)
        self._client.loop_start()
        if wait:
            assert self._born.wait(10), f"edge node {self.node} did not birth"
        return self

    def wait_born(self, timeout: float = 10) -> None:
        assert self._born.wait(timeout), f"edge node {self.node} did not birth"

    def stop(self) -> None:
        """Intentional disconnect: NDEATH first, then DISCONNECT (so the will is not sent)."""
        with self._lock:
            if self._client.is_connected():
                info = self._client.publish(self.topic("NDEATH"), self._death(), qos=1)
                info.wait_for_publish(5)
            self._client.disconnect()
        self._client.loop_stop()

    def crash(self) -> None:
        """Vanish without DISCONNECT: the broker then publishes the will (NDEATH) for us."""
        self._client.loop_stop()  # no reconnect
        sock = self._client.socket()
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _set_will(self) -> None:
        self._client.will_set(self.topic("NDEATH"), self._death(), qos=1, retain=False)

    def _death(self) -> bytes:
        payload = Payload(timestamp=now_ms())
        metric = payload.metrics.add()
        metric.name, metric.datatype, metric.long_value = "bdSeq", UINT64, self.bd_seq
        return payload.SerializeToString()  # type: ignore[no-any-return]

    def _on_connect(self, client: paho.Client, _u: Any, _f: Any, _rc: Any, _p: Any) -> None:
        client.subscribe([(self.topic("NCMD"), 1), (f"spBv1.0/{self.group}/DCMD/{self.node}/+", 1)])
        if self.primary_host is None:
            self.publish_births()
        else:
            client.subscribe(f"spBv1.0/STATE/{self.primary_host}", 1)

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, _rc: Any, _p: Any) -> None:
        # A new MQTT session gets the next bdSeq (0-255), in its will and its NBIRTH.
        with self._lock:
            self._born.clear()
            self.bd_seq = (self.bd_seq + 1) & 0xFF
            self._set_will()

    def _on_message(self, _c: Any, _u: Any, message: paho.MQTTMessage) -> None:
        if "/STATE/" in message.topic:
            state = json.loads(message.payload)
            if state.get("online") is True and not self._born.is_set():
                self.publish_births()
            return
        payload = Payload()
        payload.ParseFromString(message.payload)
        for metric in payload.metrics:
            if metric.name == "Node Control/Rebirth" and metric.boolean_value:
                with self._lock:
                    self.rebirth_requests += 1
                self.publish_births()
            else:
                value = metric.WhichOneof("value")
                self.commands.append((message.topic, metric.name, getattr(metric, value or "")))

    # -- births, data, deaths --------------------------------------------------------

    def publish_births(self) -> None:
        """NBIRTH (seq 0) and one DBIRTH per device, all metrics with names, aliases, values."""
        with self._lock:
            self._seq = 0
            node = self._birth_payload(self.node_metrics, node=True)
            self._client.publish(self.topic("NBIRTH"), node, qos=0)
            for device, metrics in self.devices.items():
                self._client.publish(
                    self.topic("DBIRTH", device), self._birth_payload(metrics, node=False), qos=0
                )
            self.births += 1
            self._born.set()

    def _birth_payload(self, metrics: Sequence[MetricSpec], *, node: bool) -> bytes:
        ts = now_ms()
        payload = Payload(timestamp=ts, seq=self._next_seq())
        if node:
            for name, datatype, value in (
                ("bdSeq", UINT64, self.bd_seq),
                ("Node Control/Rebirth", BOOLEAN, False),
            ):
                metric = payload.metrics.add()
                metric.name, metric.timestamp, metric.datatype = name, ts, datatype
                set_value(metric, datatype, value)
        for spec in metrics:
            metric = payload.metrics.add()
            metric.name, metric.alias, metric.timestamp = spec.name, spec.alias, ts
            metric.datatype, metric.is_transient = spec.datatype, spec.transient
            set_value(metric, spec.datatype, spec.value)
            if spec.unit is not None:
                metric.properties.keys.append("engUnit")
                unit = metric.properties.values.add()
                unit.type, unit.string_value = STRING, spec.unit
        return payload.SerializeToString()  # type: ignore[no-any-return]

    def _next_seq(self) -> int:
        seq = self._seq
        self._seq = (seq + 1) & 0xFF
        return seq

    def skip_seq(self, count: int = 1) -> None:
        """Lose ``count`` sequence numbers, as if messages had gone missing."""
        with self._lock:
            self._seq = (self._seq + count) & 0xFF

    def data_payload(
        self,
        device: str | None,
        values: Mapping[str, Value],
        *,
        ts_ms: int | None = None,
        seq: int | None = None,
    ) -> bytes:
        """A DDATA (or NDATA for ``device`` None) payload by alias; takes the next seq."""
        specs = {s.name: s for s in (self.node_metrics if device is None else self.devices[device])}
        ts = ts_ms or now_ms()
        with self._lock:
            payload = Payload(timestamp=ts, seq=self._next_seq() if seq is None else seq)
        for name, value in values.items():
            spec = specs[name]
            metric = payload.metrics.add()
            metric.alias, metric.timestamp = spec.alias, ts
            set_value(metric, spec.datatype, value)
        return payload.SerializeToString()  # type: ignore[no-any-return]

    def data(
        self, device: str | None, values: Mapping[str, Value], *, ts_ms: int | None = None
    ) -> None:
        verb = "NDATA" if device is None else "DDATA"
        with self._lock:
            payload = self.data_payload(device, values, ts_ms=ts_ms)
            self.publish_raw(self.topic(verb, device), payload)

    def ddeath(self, device: str) -> None:
        with self._lock:
            payload = Payload(timestamp=now_ms(), seq=self._next_seq())
            self.publish_raw(self.topic("DDEATH", device), payload.SerializeToString())

    def next_seq_payload(self, build: Any) -> bytes:
        """``build(payload)`` fills a fresh payload that gets the next seq and a timestamp."""
        with self._lock:
            payload = Payload(timestamp=now_ms(), seq=self._next_seq())
        build(payload)
        return payload.SerializeToString()  # type: ignore[no-any-return]

    def flush(self) -> None:
        """Return once the broker has everything published so far (a QoS 1 round trip)."""
        self.publish_raw(f"edge-test/{self.node}/flush", b"", qos=1)

    def publish_raw(self, topic: str, payload: bytes, qos: int = 0) -> None:
        info = self._client.publish(topic, payload, qos=qos)
        if qos:
            info.wait_for_publish(5)

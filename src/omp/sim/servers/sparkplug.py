"""The plant's Sparkplug B 3.0 edge nodes: one per line served over Sparkplug.

Names on the wire: the group id is the site, the edge node id is
``<area>_<line>`` (``packaging_packaging_01``), each machine is a device named
as the machine (``filler_01``), each signal a metric named as the signal. A
metric's source address for the platform is therefore
``munich/packaging_packaging_01/filler_01/fill_volume``.

What each edge node does (Sparkplug B 3.0, edge node rules):

- its MQTT will is the NDEATH carrying ``bdSeq``; ``bdSeq`` starts at 0 and
  goes up by one for every new MQTT session (0-255);
- it subscribes to its NCMD and DCMD topics (and, with ``primary_host``, to
  that host's STATE) before its first birth;
- NBIRTH (seq 0, ``bdSeq``, ``Node Control/Rebirth`` = false), then one DBIRTH
  per device with every signal: name, alias, datatype (Double for
  measurements, Int32 for states, UInt32 for counters, String for text),
  value, timestamp and the ``engUnit`` property (UCUM) where there is a unit;
- DDATA by alias, only the metrics that changed since they were last sent
  (report by exception), each with the frame's simulated time in ms;
- seq 0-255 counts every NBIRTH, DBIRTH and DDATA of the node (NDEATH has none);
- an NCMD ``Node Control/Rebirth`` = true is answered with NBIRTH (same
  ``bdSeq``) and every DBIRTH; a lost session comes back with births and the
  next ``bdSeq``; a clean stop publishes NDEATH before DISCONNECT;
- with ``primary_host`` set it births only while that host's STATE says
  ``online: true``, and on ``online: false`` publishes NDEATH, disconnects and
  starts over (spec 3.0).

Births need values, so an edge node births once it has seen a frame. No
payload carries wall-clock time: the same frames give the same bytes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gmqtt import Message
from google.protobuf.message import DecodeError

from omp.core.wire import sparkplug_b_pb2 as spb
from omp.sim.catalog import SignalKind, SignalSpec
from omp.sim.frame import Frame, Value
from omp.sim.plant import LineSpec, MachineSpec, Plant, Served
from omp.sim.servers.base import Endpoints, ServedSection, served_by
from omp.sim.servers.mqtt_link import BrokerAddress, MqttLink

NAMESPACE = "spBv1.0"
REBIRTH = "Node Control/Rebirth"
BD_SEQ = "bdSeq"
ENG_UNIT = "engUnit"
CONNECTOR = "sim_sparkplug"
"""The connector name ``model_section`` gives the platform's Sparkplug host."""
HOST_ID = "omp"
"""The host id ``model_section`` gives that connector (set ``primary_host`` to it to wait)."""

log = logging.getLogger(__name__)

# How a value is put in a metric: the protobuf field, by the metric's datatype.
_DOUBLE, _INT, _TEXT, _BOOL = 0, 1, 2, 3
_FIELD = {_DOUBLE: "double_value", _INT: "int_value", _TEXT: "string_value", _BOOL: "boolean_value"}


def _datatype(signal: SignalSpec) -> tuple[int, int]:
    """(Sparkplug datatype, value field code) for a catalog signal."""
    if signal.datatype == "string":
        return spb.String, _TEXT
    if signal.datatype == "bool":
        return spb.Boolean, _BOOL
    if signal.datatype == "int":
        # Counters never go negative (UInt32 holds 4e9 parts); a state code is a PLC enum.
        return (spb.UInt32 if signal.kind is SignalKind.COUNTER else spb.Int32), _INT
    return spb.Double, _DOUBLE  # Double keeps the simulated value exactly


def _convert(field: int, value: Value) -> float | int | str | bool:
    if field == _DOUBLE:
        return float(value)
    if field == _INT:
        return int(value) & 0xFFFF_FFFF  # two's complement for Int32 (the spec's int_value)
    if field == _TEXT:
        return str(value)
    return bool(value)


def edge_node_id(line: LineSpec) -> str:
    """The Sparkplug edge node id of a line: ``<area>_<line>``."""
    return f"{line.area}_{line.name}"


def metric_address(machine: MachineSpec, signal: str) -> str:
    """The platform's source address of one signal: ``<group>/<edge node>/<device>/<metric>``."""
    return f"{machine.site}/{machine.area}_{machine.line}/{machine.name}/{signal}"


@dataclass(frozen=True, slots=True)
class _Device:
    """One machine's metric table, built once: births copy ``birth``, data uses aliases."""

    machine: MachineSpec
    topic_birth: str
    topic_data: str
    birth: Any  # spb.Payload: every metric defined, values set per birth
    aliases: tuple[int, ...]
    fields: tuple[int, ...]


def _device(machine: MachineSpec, group: str, node: str, first_alias: int) -> _Device:
    birth = spb.Payload()
    aliases: list[int] = []
    fields: list[int] = []
    for offset, signal in enumerate(machine.kind.signals):
        datatype, field = _datatype(signal)
        metric = birth.metrics.add(name=signal.name, alias=first_alias + offset, datatype=datatype)
        if signal.unit is not None:
            metric.properties.keys.append(ENG_UNIT)
            metric.properties.values.add(type=spb.String, string_value=signal.unit)
        aliases.append(first_alias + offset)
        fields.append(field)
    base = f"{NAMESPACE}/{group}"
    return _Device(
        machine,
        f"{base}/DBIRTH/{node}/{machine.name}",
        f"{base}/DDATA/{node}/{machine.name}",
        birth,
        tuple(aliases),
        tuple(fields),
    )


def _add_value(payload: Any, alias: int, ms: int, field: int, value: Value) -> None:
    # Keyword arguments per field: the fastest way to fill an upb message.
    if field == _DOUBLE:
        payload.metrics.add(alias=alias, timestamp=ms, double_value=float(value))
    elif field == _INT:
        payload.metrics.add(alias=alias, timestamp=ms, int_value=int(value) & 0xFFFF_FFFF)
    elif field == _TEXT:
        payload.metrics.add(alias=alias, timestamp=ms, string_value=str(value))
    else:
        payload.metrics.add(alias=alias, timestamp=ms, boolean_value=bool(value))


class EdgeNode:
    """One line's edge node: its MQTT link, ``bdSeq``, ``seq`` and what it last sent."""

    def __init__(
        self,
        address: BrokerAddress,
        line: LineSpec,
        *,
        client_id: str,
        primary_host: str | None = None,
        keepalive: int = 30,
        reconnect_max: float = 5.0,
    ) -> None:
        self.group = line.site
        self.node = edge_node_id(line)
        self.bd_seq = 0
        self.births = 0
        """Birth sequences published (first births, rebirths, births after reconnects)."""
        self._topic = f"{NAMESPACE}/{self.group}/{{}}/{self.node}"
        self._devices: list[_Device] = []
        alias = 1
        for machine in line.machines:
            self._devices.append(_device(machine, self.group, self.node, alias))
            alias += len(machine.kind.signals)
        self._seq = 0
        self._born = False
        self._frame: Frame | None = None
        self._sent: list[list[Value]] = [[] for _ in self._devices]
        self._primary_host = primary_host
        self._host_online = primary_host is None
        self._host_seen_ms = -1
        self._tasks: set[asyncio.Task[None]] = set()
        subscriptions = [self._topic.format("NCMD"), f"{NAMESPACE}/{self.group}/DCMD/{self.node}/+"]
        if primary_host is not None:
            subscriptions.append(f"{NAMESPACE}/STATE/{primary_host}")
        self.link = MqttLink(
            address,
            client_id,
            will=self._will,
            subscriptions=subscriptions,
            on_online=self._online,
            on_offline=self._offline,
            on_message=self._message,
            keepalive=keepalive,
            reconnect_max=reconnect_max,
        )

    @property
    def devices(self) -> tuple[MachineSpec, ...]:
        return tuple(d.machine for d in self._devices)

    def publish(self, frame: Frame) -> None:
        """Birth if not born yet (and allowed), else DDATA of what changed."""
        self._frame = frame
        if not self._may_publish():
            return
        if not self._born:
            self._publish_births()
        else:
            self._publish_data(frame)

    async def stop(self) -> None:
        """NDEATH first (the spec's intentional disconnect), then DISCONNECT."""
        if self.link.online:
            self.link.publish(self._topic.format("NDEATH"), self._death(), qos=1)
        await self.link.stop()
        for task in list(self._tasks):
            task.cancel()

    # -- births, data, death ---------------------------------------------------------

    def _may_publish(self) -> bool:
        return self.link.online and self._host_online

    def _publish_births(self) -> None:
        frame = self._frame
        if frame is None:
            return  # births carry values: the first frame brings them
        ms = frame.ts // 1000
        self._seq = 0
        node = spb.Payload(timestamp=ms)
        node.metrics.add(name=BD_SEQ, timestamp=ms, datatype=spb.UInt64, long_value=self.bd_seq)
        node.metrics.add(name=REBIRTH, timestamp=ms, datatype=spb.Boolean, boolean_value=False)
        self._send(self._topic.format("NBIRTH"), node)
        for number, device in enumerate(self._devices):
            row = frame.values[device.machine.index]
            payload = spb.Payload()
            payload.CopyFrom(device.birth)
            payload.timestamp = ms
            for metric, field, value in zip(payload.metrics, device.fields, row, strict=True):
                metric.timestamp = ms
                setattr(metric, _FIELD[field], _convert(field, value))
            self._send(device.topic_birth, payload)
            self._sent[number] = list(row)
        self._born = True
        self.births += 1

    def _publish_data(self, frame: Frame) -> None:
        ms = frame.ts // 1000
        for number, device in enumerate(self._devices):
            row = frame.values[device.machine.index]
            sent = self._sent[number]
            changed = [i for i, value in enumerate(row) if value != sent[i]]
            if not changed:
                continue
            payload = spb.Payload(timestamp=ms)
            aliases, fields = device.aliases, device.fields
            for i in changed:
                value = row[i]
                _add_value(payload, aliases[i], ms, fields[i], value)
                sent[i] = value
            self._send(device.topic_data, payload)

    def _send(self, topic: str, payload: Any) -> None:
        payload.seq = self._seq
        self._seq = (self._seq + 1) & 0xFF
        self.link.publish(topic, payload.SerializeToString())

    def _death(self) -> bytes:
        payload = spb.Payload()
        payload.metrics.add(name=BD_SEQ, datatype=spb.UInt64, long_value=self.bd_seq)
        return bytes(payload.SerializeToString())

    def _will(self) -> Message:
        return Message(self._topic.format("NDEATH"), self._death(), qos=1, retain=False)

    # -- link events -----------------------------------------------------------------

    def _online(self) -> None:
        self._born = False
        self._host_online = self._primary_host is None
        if self._may_publish():
            self._publish_births()

    def _offline(self) -> None:
        # The will (NDEATH with this bdSeq) is out; the next session is a new one.
        self._born = False
        self.bd_seq = (self.bd_seq + 1) & 0xFF

    def _message(self, topic: str, payload: bytes) -> None:
        if topic.startswith(f"{NAMESPACE}/STATE/"):
            self._host_state(payload)
        elif topic == self._topic.format("NCMD"):
            command = spb.Payload()
            try:
                command.ParseFromString(payload)
            except DecodeError:
                log.debug("edge node %s/%s: unreadable NCMD", self.group, self.node)
                return
            rebirth = any(m.name == REBIRTH and m.boolean_value for m in command.metrics)
            if rebirth and self._may_publish():
                self._publish_births()
        # DCMD: the simulated machines take no writes; commands are ignored.

    def _host_state(self, raw: bytes) -> None:
        try:
            state = json.loads(raw)
            online, stamp = state["online"] is True, int(state.get("timestamp", 0))
        except (ValueError, TypeError, KeyError):
            log.debug("edge node %s/%s: unreadable STATE %r", self.group, self.node, raw)
            return
        if stamp < self._host_seen_ms:
            return  # an older STATE than one already seen (spec 3.0: ignore it)
        self._host_seen_ms = stamp
        if online and not self._host_online:
            self._host_online = True
            if self.link.online:
                self._publish_births()
        elif not online and self._host_online:
            self._host_online = False
            if self._born and self.link.online:
                self.link.publish(self._topic.format("NDEATH"), self._death(), qos=1)
            task = asyncio.get_running_loop().create_task(self.link.drop())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


class SparkplugEdges:
    """A ``FrameOutput``: the edge nodes of every line served over Sparkplug.

    ``start`` connects them all and waits up to ``connect_wait`` seconds for
    the broker (it goes on without one: the links keep retrying).
    """

    name = "sparkplug"

    def __init__(
        self,
        plant: Plant,
        endpoints: Endpoints,
        *,
        client_prefix: str = "omp-sim",
        primary_host: str | None = None,
        keepalive: int = 30,
        reconnect_max: float = 5.0,
        connect_wait: float = 5.0,
    ) -> None:
        address = BrokerAddress.parse(endpoints.mqtt_url)
        self.nodes = tuple(
            EdgeNode(
                address,
                line,
                client_id=f"{client_prefix}-spb-{line.site}-{edge_node_id(line)}",
                primary_host=primary_host,
                keepalive=keepalive,
                reconnect_max=reconnect_max,
            )
            for line in plant.lines
            if line.machines and line.machines[0].served is Served.SPARKPLUG
        )
        self._connect_wait = connect_wait

    @property
    def online(self) -> bool:
        """Every edge node has a broker session."""
        return all(node.link.online for node in self.nodes)

    async def start(self) -> None:
        for node in self.nodes:
            node.link.start()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._connect_wait
        while not self.online and loop.time() < deadline:
            await asyncio.sleep(0.02)
        if not self.online:
            log.warning("Sparkplug edge nodes: broker not reachable yet; they keep trying")

    def publish(self, frame: Frame) -> None:
        for node in self.nodes:
            node.publish(frame)

    async def stop(self) -> None:
        await asyncio.gather(*(node.stop() for node in self.nodes))


def model_section(plant: Plant, endpoints: Endpoints) -> ServedSection:
    """One Sparkplug host connector for the plant's groups, and each signal's metric address.

    Addresses are explicit per signal: a Sparkplug address carries no cell, so a
    mapping rule per machine would be needed, and rules are tried one by one.
    """
    machines: Sequence[MachineSpec] = served_by(plant, Served.SPARKPLUG)
    section = ServedSection()
    if not machines:
        return section
    section.connectors[CONNECTOR] = {
        "protocol": "sparkplug",
        "description": "The simulator's Sparkplug B edge nodes",
        "url": endpoints.mqtt_url,
        "host_id": HOST_ID,
        "groups": sorted({m.site for m in machines}),
    }
    for machine in machines:
        addresses = {s.name: metric_address(machine, s.name) for s in machine.kind.signals}
        section.bindings[machine.index] = (CONNECTOR, addresses)
    return section

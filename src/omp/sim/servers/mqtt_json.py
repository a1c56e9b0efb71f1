"""The plant's plain MQTT JSON publishers: one gateway per line served as MQTT.

Each gateway is one MQTT client (``<prefix>-json-<site>-<line>``) that
publishes, every tick, one message per machine of its line:

- topic: the machine's path under the enterprise,
  ``acme/austin/packaging/packaging_01/cell_01/filler_01``;
- payload: one JSON object, ``{"ts": "<RFC 3339 UTC>", "<signal>": value, ...}``
  with every signal of the machine (numbers for measurements, states and
  counters, strings for text; a non-finite number is ``null``);
- QoS 0 by default, never retained.

The omp MQTT connector binds it with one topic entry per area (``fields: "*"``,
``timestamp: ts``) and one mapping rule for all machines, because the topic
plus the field name is the signal's path (``model_section``). The timestamp is
the frame's simulated time, so the same frames give the same bytes.
"""

from __future__ import annotations

import asyncio
import logging

import orjson

from omp.core.time import to_rfc3339
from omp.sim.frame import Frame
from omp.sim.plant import LineSpec, MachineSpec, Plant, Served
from omp.sim.servers.base import Endpoints, ServedSection, served_by
from omp.sim.servers.mqtt_link import BrokerAddress, MqttLink

CONNECTOR = "sim_mqtt"
"""The connector name ``model_section`` gives the platform's MQTT subscriber."""
TIMESTAMP = "ts"
DEFAULT_QOS = 0

log = logging.getLogger(__name__)

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY  # the engine may hand numpy scalars


def machine_topic(enterprise: str, machine: MachineSpec) -> str:
    """Where a machine's messages go: ``<enterprise>/<site>/<area>/<line>/<cell>/<machine>``."""
    return f"{enterprise}/{machine.path}"


class Gateway:
    """One line's publisher: a link, and each machine's topic and field names."""

    def __init__(
        self,
        enterprise: str,
        address: BrokerAddress,
        line: LineSpec,
        *,
        client_id: str,
        qos: int = DEFAULT_QOS,
        keepalive: int = 30,
        reconnect_max: float = 5.0,
    ) -> None:
        self.line = line
        self.qos = qos
        self._machines = tuple(
            (m.index, machine_topic(enterprise, m), (TIMESTAMP, *m.kind.signal_names))
            for m in line.machines
        )
        self.link = MqttLink(address, client_id, keepalive=keepalive, reconnect_max=reconnect_max)

    def publish(self, frame: Frame, ts: str) -> None:
        """One message per machine; nothing when offline (counted by the link)."""
        link = self.link
        if not link.online:
            link.dropped += len(self._machines)
            return
        values = frame.values
        for index, topic, keys in self._machines:
            body = dict(zip(keys, (ts, *values[index]), strict=True))
            link.publish(topic, orjson.dumps(body, option=_OPTIONS), qos=self.qos)


class MqttJsonPublishers:
    """A ``FrameOutput``: a gateway per line served over MQTT JSON.

    ``start`` connects them all and waits up to ``connect_wait`` seconds for
    the broker (it goes on without one: the links keep retrying).
    """

    name = "mqtt_json"

    def __init__(
        self,
        plant: Plant,
        endpoints: Endpoints,
        *,
        client_prefix: str = "omp-sim",
        qos: int = DEFAULT_QOS,
        keepalive: int = 30,
        reconnect_max: float = 5.0,
        connect_wait: float = 5.0,
    ) -> None:
        if qos not in (0, 1):
            raise ValueError(f"qos must be 0 or 1, not {qos!r}")
        address = BrokerAddress.parse(endpoints.mqtt_url)
        self.gateways = tuple(
            Gateway(
                plant.enterprise,
                address,
                line,
                client_id=f"{client_prefix}-json-{line.site}-{line.name}",
                qos=qos,
                keepalive=keepalive,
                reconnect_max=reconnect_max,
            )
            for line in plant.lines
            if line.machines and line.machines[0].served is Served.MQTT
        )
        self._connect_wait = connect_wait

    @property
    def online(self) -> bool:
        """Every gateway has a broker session."""
        return all(g.link.online for g in self.gateways)

    async def start(self) -> None:
        for gateway in self.gateways:
            gateway.link.start()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._connect_wait
        while not self.online and loop.time() < deadline:
            await asyncio.sleep(0.02)
        if not self.online:
            log.warning("MQTT JSON publishers: broker not reachable yet; they keep trying")

    def publish(self, frame: Frame) -> None:
        ts = to_rfc3339(frame.ts)
        for gateway in self.gateways:
            gateway.publish(frame, ts)

    async def stop(self) -> None:
        await asyncio.gather(*(g.link.stop() for g in self.gateways))


def model_section(plant: Plant, endpoints: Endpoints, *, qos: int = DEFAULT_QOS) -> ServedSection:
    """One MQTT connector: a topic entry per (site, area) served, one rule for every machine.

    The rule maps ``<topic>/<field>`` (the connector's address for ``fields``)
    to the signal of the same path, so no machine needs per-signal bindings.
    """
    machines = served_by(plant, Served.MQTT)
    section = ServedSection()
    if not machines:
        return section
    enterprise = plant.enterprise
    # The topic and the field name make the signal's path: the rule maps it onto itself.
    path = f"{enterprise}/{{site}}/{{area}}/{{line}}/{{cell}}/{{equipment}}/{{signal}}"
    areas = sorted({(m.site, m.area) for m in machines})
    section.connectors[CONNECTOR] = {
        "protocol": "mqtt",
        "description": "The simulator's MQTT JSON gateways",
        "url": endpoints.mqtt_url,
        "qos": qos,
        "topics": [
            {
                "filter": f"{enterprise}/{site}/{area}/+/+/+",
                "fields": "*",
                "timestamp": TIMESTAMP,
                "device_levels": 6,
            }
            for site, area in areas
        ],
        "map": [{"source": path, "signal": path}],
    }
    for machine in machines:
        section.bindings[machine.index] = (CONNECTOR, {})
    return section

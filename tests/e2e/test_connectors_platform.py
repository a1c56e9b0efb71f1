"""The assembled platform, as `omp run` builds it: all four protocols into the historian.

One model binds a real asyncua server, a real pymodbus server, MQTT JSON and a
Sparkplug edge node (both through the embedded broker the platform starts,
since their connectors name none), and the UNS publisher republishes what
arrives. Checked: values queryable per protocol, in the model's units;
connector health; an unmapped source listed; a setpoint written back; and
every value republished under ``omp/v1/...``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import orjson
import paho.mqtt.client as paho
import pytest
from asyncua import ua
from paho.mqtt.enums import CallbackAPIVersion

from omp.runtime.connectors import attach_connectors, check_options
from omp.runtime.platform import Platform
from omp.runtime.settings import Settings
from tests.connectors.modbus.server import ModbusTestServer, Tables
from tests.connectors.opcua.server import OpcUaTestServer, Var
from tests.connectors.sparkplug.edge import FLOAT, EdgeNode, MetricSpec
from tests.connectors.support import wait_for

EQ = "acme/munich/plant/line_1/cell_1"

MODEL = """
enterprise: acme
connectors:
  ua: {{protocol: opcua, endpoint: "{opcua}", publishing_interval: 50ms}}
  regs: {{protocol: modbus, host: 127.0.0.1, port: {modbus}, unit_id: 1, poll_interval: 100ms}}
  json:
    protocol: mqtt
    topics: [{{filter: "plant/#", value: v}}]
    map:
      - source: "plant/{{eq}}/{{signal}}"
        signal: "acme/munich/plant/line_1/cell_1/{{eq}}/{{signal}}"
  spb: {{protocol: sparkplug, groups: [g1]}}
equipment_types:
  machine:
    signals:
      temp: {{unit: Cel}}
      target: {{kind: setpoint, unit: Cel}}
sites:
  munich:
    timezone: Europe/Berlin
    areas:
      plant:
        lines:
          line_1:
            cells:
              cell_1:
                equipment:
                  mill:
                    type: machine
                    connector: ua
                    bindings: {{temp: "ns=2;s=Mill01.Temperature", target: "ns=2;s=Mill01.Target"}}
                  press:
                    type: machine
                    connector: regs
                    bindings: {{temp: {{address: "holding:0:int16", scale: 0.1}}}}
                  filler:
                    type: machine
                  palletizer:
                    type: machine
                    connector: spb
                    bindings: {{temp: {{address: g1/edge1/pal/Temp, unit: "[degF]"}}}}
"""


@pytest.fixture
def devices() -> Iterator[tuple[OpcUaTestServer, ModbusTestServer]]:
    opcua = OpcUaTestServer(
        {"Mill01.Temperature": Var(21.5), "Mill01.Target": Var(30.0, ua.VariantType.Double)}
    )
    opcua.start()
    holding = [0] * 200
    holding[0] = 455  # 45.5 Cel in tenths
    modbus = ModbusTestServer({1: Tables(holding=holding)})
    modbus.start()
    yield opcua, modbus
    modbus.stop()
    opcua.close()


@pytest.fixture
def platform(
    tmp_path: Path, devices: tuple[OpcUaTestServer, ModbusTestServer]
) -> Iterator[Platform]:
    opcua, modbus = devices
    model = tmp_path / "factory.yaml"
    model.write_text(MODEL.format(opcua=opcua.url, modbus=modbus.port))
    settings = Settings(data_dir=tmp_path / "data", broker_port=0, flush_interval="100ms")
    running = Platform.open(settings, model_file=model, check_options=check_options)
    broker_url = attach_connectors(running)
    assert broker_url is not None
    assert running.service_names == ("mqtt-broker", "connectors", "uns", "model-watcher")
    with running:
        yield running


class UnsListener:
    """A paho subscriber to ``omp/v1/#`` on the platform broker."""

    def __init__(self, port: int) -> None:
        self.messages: dict[str, dict[str, object]] = {}
        self._lock = threading.Lock()
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id="uns-listener", protocol=paho.MQTTv311
        )
        self._client.on_message = self._on_message
        subscribed = threading.Event()
        self._client.on_connect = lambda c, *a: c.subscribe("omp/v1/#")
        self._client.on_subscribe = lambda *a: subscribed.set()
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()
        assert subscribed.wait(10), "UNS listener did not subscribe"

    def _on_message(self, client: object, userdata: object, message: paho.MQTTMessage) -> None:
        with self._lock:
            self.messages[message.topic] = orjson.loads(message.payload)

    def value(self, topic: str) -> object:
        with self._lock:
            return self.messages.get(topic, {}).get("value")

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


def latest(platform: Platform, path: str) -> float | None:
    platform.historian.flush()
    values = platform.queries.latest(path).column("value").to_pylist()
    return values[0] if values else None


def test_every_protocol_lands_in_the_historian_and_on_the_uns(platform: Platform) -> None:
    port = int(platform.health().services["mqtt-broker"]["url"].rsplit(":", 1)[1])
    uns = UnsListener(port)
    edge = EdgeNode(
        port=port,
        group="g1",
        node="edge1",
        devices={"pal": [MetricSpec("Temp", FLOAT, 1, 212.0, unit="[degF]")]},
    )
    publisher = paho.Client(
        CallbackAPIVersion.VERSION2, client_id="json-publisher", protocol=paho.MQTTv311
    )
    publisher.connect("127.0.0.1", port)
    publisher.loop_start()
    try:
        wait_for(
            lambda: all(h["state"] == "connected" for h in _connectors(platform).values()),
            timeout=30,
            what="every connector connected",
        )
        edge.start()
        publisher.publish("plant/filler/temp", orjson.dumps({"v": 61.0}), qos=1).wait_for_publish(5)
        publisher.publish("plant/unknown/temp", orjson.dumps({"v": 1.0}), qos=1).wait_for_publish(5)
        expected = {"mill": 21.5, "press": 45.5, "filler": 61.0, "palletizer": 100.0}
        for name, value in expected.items():
            path = f"{EQ}/{name}/temp"
            wait_for(
                lambda p=path, v=value: latest(platform, p) == pytest.approx(v),  # type: ignore[misc]
                timeout=20,
                what=f"{path} = {value} in the historian",
            )
            topic = f"omp/v1/{path}"
            wait_for(
                lambda t=topic, v=value: uns.value(t) == pytest.approx(v),  # type: ignore[misc]
                timeout=20,
                what=f"{topic} on the UNS",
            )
        unmapped = platform.sources()["unmapped"]
        assert {"connector": "json", "address": "plant/unknown/temp", "points": 1} in unmapped
        platform.write_setpoint(f"{EQ}/mill/target", 35.0)
        wait_for(lambda: platform_opcua_target(platform) == 35.0, what="setpoint on the server")
    finally:
        publisher.loop_stop()
        edge.stop()
        uns.close()


def platform_opcua_target(platform: Platform) -> float | None:
    return latest(platform, f"{EQ}/mill/target")


def _connectors(platform: Platform) -> dict[str, dict[str, object]]:
    report = platform.health().services["connectors"]
    return {name: value for name, value in report.items() if isinstance(value, dict)}

"""Test helpers of the MQTT JSON connector: a publisher, models, and broker variants.

The publisher is paho (a different MQTT library from the connector's gmqtt),
so the tests exercise the wire protocol, not one library talking to itself.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from omp.connectors.mqtt import PLUGIN
from omp.model.kinds import Protocol
from tests.connectors.support import Mosquitto

PLUGINS = {Protocol.MQTT: PLUGIN}


@dataclass
class Publisher:
    """A paho client on its own network thread; ``publish`` waits for the broker's ack."""

    client: paho.Client

    def publish(self, topic: str, payload: bytes | str, qos: int = 1) -> None:
        info = self.client.publish(topic, payload, qos=qos)
        info.wait_for_publish(10)
        assert info.is_published(), f"broker did not acknowledge {topic}"

    def publish_all(self, messages: Iterable[tuple[str, bytes | str]], qos: int = 1) -> None:
        infos = [self.client.publish(t, p, qos=qos) for t, p in messages]
        for info in infos:
            info.wait_for_publish(10)
            assert info.is_published()


@contextmanager
def publisher(
    port: int, *, client_id: str = "", login: tuple[str, str] | None = None
) -> Iterator[Publisher]:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    client.max_queued_messages_set(0)
    client.max_inflight_messages_set(1000)
    if login is not None:
        client.username_pw_set(*login)
    connected = threading.Event()
    client.on_connect = lambda *args: connected.set()
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        assert connected.wait(10), "publisher did not connect"
        yield Publisher(client)
    finally:
        client.disconnect()
        client.loop_stop()


def model(connector_yaml: str, *, bindings: str = "") -> str:
    """A one-site model with a filler and a capper, and one MQTT connector ``feed``.

    ``connector_yaml`` is the connector's body, indented by four spaces.
    """
    return f"""
enterprise: acme
equipment_types:
  machine:
    signals:
      temp: {{unit: Cel}}
      speed: {{unit: "1/min"}}
      running: {{datatype: bool, kind: state, states: {{0: stopped, 1: running}}}}
      order: {{datatype: string, kind: text}}
connectors:
  feed:
    protocol: mqtt
{connector_yaml}
sites:
  munich:
    timezone: Europe/Berlin
    areas:
      packaging:
        lines:
          line1:
            cells:
              cell:
                equipment:
                  filler01: {{type: machine{bindings}}}
                  capper01: {{type: machine}}
"""


class PersistentMosquitto(Mosquitto):
    """The support Mosquitto (which now keeps root, so it can write its persistence file)."""


class PrivateMosquitto(Mosquitto):
    """A private Mosquitto whose listener config is written by the test (passwords, TLS)."""

    def __init__(self, workdir: Path, listener: str) -> None:
        super().__init__(workdir)
        self.config.write_text(f"listener {self.port} 127.0.0.1\n{listener}user root\n")


def password_file(workdir: Path, user: str, password: str) -> Path:
    path = workdir / "passwords"
    path.touch()
    subprocess.run(["mosquitto_passwd", "-b", str(path), user, password], check=True)
    path.chmod(0o600)
    return path

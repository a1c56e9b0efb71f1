"""How the runtime wires connectors: option checks, the embedded broker's port, what needs it."""

from __future__ import annotations

import socket

import pytest

from omp.core.errors import ConfigError
from omp.model.kinds import Protocol
from omp.runtime.connectors import _broker_port, check_options, needs_broker, uns_options
from omp.runtime.settings import Settings
from tests.connectors.support import free_port, registry_of


def test_option_problems_carry_their_path() -> None:
    problems = check_options(Protocol.MODBUS, {"host": "10.0.0.1", "poll_intervall": "1s"})
    assert [where for where, _ in problems] == [("poll_intervall",)]
    assert check_options(Protocol.MODBUS, {"host": "10.0.0.1"}) == []


def test_the_default_broker_port_moves_aside_when_taken(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        chosen = _broker_port(Settings(), default=taken)
    assert chosen != taken
    assert f"127.0.0.1:{taken} is taken" in caplog.text
    free = free_port()
    assert _broker_port(Settings(), default=free) == free
    assert _broker_port(Settings(broker_port=free)) == free
    assert _broker_port(Settings(broker_port=0)) > 0


MODEL = """
enterprise: acme
equipment_types: {{m: {{signals: {{t: {{unit: Cel}}}}}}}}
connectors:
  feed: {{protocol: mqtt, {url}topics: [{{filter: "a/#"}}]}}
sites: {{s: {{timezone: UTC}}}}
"""


def test_a_broker_is_needed_by_mqtt_without_url_or_the_uns() -> None:
    own_url = registry_of(MODEL.format(url="url: 'mqtt://10.0.0.5:1883', "))
    no_url = registry_of(MODEL.format(url=""))
    assert needs_broker(no_url, uns_options(Settings(uns={"enabled": False})))
    assert not needs_broker(own_url, uns_options(Settings(uns={"enabled": False})))
    assert needs_broker(own_url, uns_options(Settings()))


def test_bad_uns_settings_are_named() -> None:
    with pytest.raises(ConfigError, match=r"settings uns\.qos"):
        uns_options(Settings(uns={"qos": 3}))

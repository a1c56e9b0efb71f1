"""The publisher's MQTT link: one gmqtt client per connection, no reconnects of gmqtt's own.

gmqtt would reconnect by itself; omp's publisher owns reconnects (with
``Backoff``) and makes a fresh client each time. gmqtt allows
``failed_connections <= reconnect_retries`` attempts and resets the count on
every CONNACK, so only a value below -1 turns its reconnects off entirely --
otherwise a stale client could come back and take the session over.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import gmqtt
from gmqtt.mqtt.constants import MQTTv311

from omp.connectors.mqtt_transport import MqttEndpoint

NO_RECONNECTS = -2
CONNECT_TIMEOUT_S = 10.0


class LinkError(Exception):
    """The broker could not be reached or refused us; the message names the broker."""


async def open_link(endpoint: MqttEndpoint, client_id: str, on_lost: Callable[[], None]) -> Any:
    """A connected gmqtt client; ``on_lost`` is called (on the loop) when the link drops.

    MQTT 3.1.1 is spoken, which every broker (and the embedded amqtt) accepts.
    Raises ``LinkError`` naming the broker.
    """
    client = gmqtt.Client(client_id, clean_session=True)
    client.set_config({"reconnect_retries": NO_RECONNECTS, "reconnect_delay": 0})
    login = endpoint.login
    if login is not None:
        client.set_auth_credentials(*login)
    client.on_disconnect = lambda *_: on_lost()
    try:
        await asyncio.wait_for(
            client.connect(
                endpoint.host,
                endpoint.port,
                ssl=endpoint.ssl_context(),
                keepalive=endpoint.keepalive,
                version=MQTTv311,
            ),
            CONNECT_TIMEOUT_S,
        )
    except asyncio.CancelledError:
        await close_link(client)
        raise
    except (OSError, TimeoutError, gmqtt.MQTTConnectError) as exc:
        await close_link(client)
        reason = str(exc) or type(exc).__name__
        raise LinkError(f"cannot connect to {endpoint.redacted_url}: {reason}") from exc
    return client


async def close_link(client: Any) -> None:
    """Disconnect politely if still connected; never raises."""
    # A link that is gone already has nothing more to say to the broker.
    with contextlib.suppress(OSError, TimeoutError, RuntimeError, AttributeError):
        await asyncio.wait_for(client.disconnect(), CONNECT_TIMEOUT_S)

"""The gmqtt client of one connector run, set up so that omp owns acks and reconnects.

- ``optimistic_acknowledgement=False`` (QoS 1): gmqtt sends a message's
  PUBACK only when the coroutine handling it returns, so the handler decides
  when (after the values are submitted).
- No reconnects of its own: gmqtt allows ``failed_connections <=
  reconnect_retries`` attempts and resets the count on every CONNACK, so 0
  still makes one attempt after a drop and -1 means unlimited; any value below
  -1 makes none. The connector host then owns backoff, health and the new
  client, and no stale client can take the session over with the same id.
- MQTT 5 with ``clean_start`` false and a session expiry keeps the session
  (subscriptions and queued QoS 1 messages) across omp and broker restarts;
  ``receive_maximum`` bounds the unacknowledged messages in flight.
"""

from __future__ import annotations

from typing import Any

import gmqtt

from omp.connectors.mqtt.options import MqttJsonOptions

NEVER_RECONNECT = -2
"""gmqtt ``reconnect_retries`` value that allows no attempt at all (see module docstring)."""


def new_client(options: MqttJsonOptions, client_id: str) -> Any:
    """A gmqtt client with omp's settings; not connected yet."""
    session: dict[str, Any] = {"receive_maximum": options.inflight}
    if not options.clean_session:
        session["session_expiry_interval"] = options.session_expiry
    client = gmqtt.Client(
        client_id,
        clean_session=options.clean_session,
        optimistic_acknowledgement=options.qos == 0,
        **session,
    )
    client.set_config({"reconnect_retries": NEVER_RECONNECT, "reconnect_delay": 0})
    login = options.login
    if login is not None:
        client.set_auth_credentials(*login)
    return client

"""Admission to the embedded broker: every client is let in, and keeps its session.

amqtt's own anonymous plugin marks each client ``is_anonymous``, and amqtt then
drops that client's persistent session (subscriptions and queued QoS 1
messages) as soon as it disconnects. The embedded broker listens on loopback
only, where every client is a local process the operator started, so it
admits all of them *without* that mark: a client that connects with
``clean_session=False`` finds its subscriptions and its queued QoS 1/2
messages again when it reconnects (in memory, while the broker runs).
"""

from __future__ import annotations

from typing import Any

from amqtt.plugins.base import BaseAuthPlugin


class LoopbackAdmission(BaseAuthPlugin):  # type: ignore[misc]  # amqtt ships no type hints
    """An amqtt auth plugin that admits every client and never marks it anonymous."""

    async def authenticate(self, *, session: Any) -> bool:
        return True

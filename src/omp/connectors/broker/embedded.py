"""The embedded MQTT broker: amqtt on its own thread and event loop.

Where no broker is configured, the platform starts one so that ``omp run``
needs no external service. The platform's code is synchronous, so
``EmbeddedBroker`` owns a thread with an asyncio loop and ``start()`` returns
once the listener is bound (or raises naming host:port and why).

>>> broker = EmbeddedBroker(port=0)
>>> broker.start()
>>> broker.url.startswith("mqtt://127.0.0.1:")
True
>>> broker.stop()
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import logging
import threading
from typing import Any

from amqtt.adapters import StreamWriterAdapter
from amqtt.broker import Broker
from amqtt.errors import BrokerError

from omp.connectors.broker.handshake import (
    MQTT_311_LEVEL,
    REFUSE_PROTOCOL,
    PrefixedReader,
    read_protocol_level,
)
from omp.core.errors import ConfigError, OmpError
from omp.core.net import is_loopback

log = logging.getLogger(__name__)

_LISTENER = "default"
_ADMISSION_PLUGIN = "omp.connectors.broker.auth.LoopbackAdmission"
_START_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 10.0
_SHUTDOWN_ROUNDS = 10
_CONNECT_TIMEOUT_S = 10.0
"""A connection that has not sent its CONNECT by then is closed."""
DEFAULT_SESSION_EXPIRY_S = 24 * 3600
"""A persistent session (and the QoS 1 messages queued for it, in memory) is dropped
after its client has been away this long, so a client that never returns cannot
grow the broker without bound."""


class _Broker(Broker):  # type: ignore[misc]  # amqtt ships no type information
    """amqtt's broker with one fix: retained messages go only to subscribers of their filter.

    amqtt 0.12, when a client connects, sends it every retained message that matches *any*
    client's subscription (it walks the broker-wide subscription table to serve a resumed
    session's own subscriptions). We send a retained message for a filter only to a session
    that holds that filter, which is what MQTT 3.1.1 asks for (3.3.1.3).
    """

    async def _publish_retained_messages_for_subscription(
        self, subscription: tuple[str, int], session: Any
    ) -> None:
        holders = self._subscriptions.get(subscription[0], ())
        if any(held.client_id == session.client_id for held, _ in holders):
            await super()._publish_retained_messages_for_subscription(subscription, session)


class BrokerStartError(OmpError):
    """The embedded broker could not listen; the message names host:port and what to change."""


class EmbeddedBroker:
    """An in-process MQTT 3.1.1 broker, loopback only unless ``allow_remote`` is set.

    ``port=0`` picks a free port; ``url`` then reports the real one. Clients on
    loopback connect without credentials. ``session_expiry`` (seconds, None:
    never) bounds how long an absent client's persistent session is kept.
    ``start``/``stop`` may be called from any thread; ``stop`` frees the port
    before it returns.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 1883,
        *,
        allow_remote: bool = False,
        session_expiry: int | None = DEFAULT_SESSION_EXPIRY_S,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise ConfigError(
                f"embedded MQTT broker host {host!r} is not a loopback address; it admits "
                "clients without credentials, so it listens on 127.0.0.1 unless allow_remote "
                "is set (for a plant network use Mosquitto or another broker with TLS and logins)"
            )
        if not 0 <= port <= 65535:
            raise ConfigError(f"embedded MQTT broker port {port} is not in 0..65535")
        self.host = host
        self.session_expiry = session_expiry
        self._requested_port = port
        self._port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker: Any = None
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.StreamWriter] = set()

    name = "mqtt-broker"

    @property
    def running(self) -> bool:
        return self._thread is not None

    def health(self) -> dict[str, object]:
        """For the platform's health: where it listens and how many clients are connected."""
        return {
            "name": self.name,
            "url": self.url,
            "running": self.running,
            "clients": len(self._clients),
        }

    @property
    def port(self) -> int:
        """The port it listens on (the real one once started with port 0)."""
        return self._port if self._port is not None else self._requested_port

    @property
    def url(self) -> str:
        """``mqtt://host:port`` for clients and for ``ConnectorSpec.broker_url``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"mqtt://{host}:{self.port}"

    def start(self) -> None:
        """Bind and serve; raises ``BrokerStartError`` naming host:port when it cannot."""
        if self._thread is not None:
            return
        _quiet_amqtt_logs()
        loop = asyncio.new_event_loop()
        started: concurrent.futures.Future[int] = concurrent.futures.Future()
        thread = threading.Thread(
            target=self._serve, args=(loop, started), name="omp-mqtt-broker", daemon=True
        )
        thread.start()
        try:
            self._port = started.result(timeout=_START_TIMEOUT_S)
        except BaseException:
            thread.join(_STOP_TIMEOUT_S)
            loop.close()
            raise
        self._loop, self._thread = loop, thread
        log.info("embedded MQTT broker listening on %s", self.url)

    def stop(self) -> None:
        """Disconnect every client, close the listener and end the thread (idempotent)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(_STOP_TIMEOUT_S)
        except (concurrent.futures.TimeoutError, BrokerError) as exc:
            log.warning("embedded MQTT broker on %s did not stop cleanly: %s", self.url, exc)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(_STOP_TIMEOUT_S)
            loop.close()
            self._loop = self._thread = self._broker = self._server = None
        log.info("embedded MQTT broker on %s stopped", self.url)

    def _serve(
        self, loop: asyncio.AbstractEventLoop, started: concurrent.futures.Future[int]
    ) -> None:
        asyncio.set_event_loop(loop)
        try:
            port = loop.run_until_complete(self._start_broker())
        except BaseException as exc:  # handed to start(), which raises it in the caller
            started.set_exception(exc)
            return
        started.set_result(port)
        loop.run_forever()

    async def _start_broker(self) -> int:
        """Start amqtt, then bind our own listener and hand it each connection.

        Owning the listening socket (amqtt's "external" listener) gives us the
        bound port, a plain ``OSError`` when it is taken, and the client
        connections, which a clean stop must close itself.
        """
        where = f"{self.host}:{self._requested_port}"
        broker = _Broker(_broker_config(self.session_expiry))
        await broker.start()
        try:
            self._server = await asyncio.start_server(
                self._on_client, self.host, self._requested_port
            )
        except OSError as exc:
            await broker.shutdown()
            raise BrokerStartError(_start_failure(where, exc)) from exc
        self._broker = broker
        return int(self._server.sockets[0].getsockname()[1])

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._clients.add(writer)
        try:
            prefix, level = await asyncio.wait_for(read_protocol_level(reader), _CONNECT_TIMEOUT_S)
            if level is not None and level != MQTT_311_LEVEL:
                writer.write(REFUSE_PROTOCOL)
                await writer.drain()
                return
            await self._broker.external_connected(
                PrefixedReader(prefix, reader), StreamWriterAdapter(writer), _LISTENER
            )
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            pass  # the client left, or never said who it is
        finally:
            self._clients.discard(writer)
            writer.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            # Python 3.11 leaks a socket accepted in the loop turn before ``close()``
            # (its transport then fails to attach); two turns let such an accept finish.
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            self._server.close()
        if self._broker is not None:
            await self._broker.shutdown()
        await _end_connections(self._clients)
        if self._server is not None:
            await self._server.wait_closed()


async def _end_connections(clients: set[asyncio.StreamWriter]) -> None:
    """Close every client connection and end every task left on the loop.

    A connection accepted just before the listener closed may start its
    handler only now, so this repeats until nothing is left (a few rounds).
    """
    current = asyncio.current_task()
    for _ in range(_SHUTDOWN_ROUNDS):
        for writer in list(clients):
            writer.close()
        pending = [task for task in asyncio.all_tasks() if task is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        # A closed transport releases its socket in a callback on the next turn.
        await asyncio.sleep(0)
        if not pending and not clients:
            return


def _broker_config(session_expiry: int | None) -> dict[str, Any]:
    """amqtt's configuration: one external listener (our socket), our admission plugin.

    Leaving out amqtt's default plugins drops its per-packet logger and the
    ``$SYS`` publisher, which cost time on every message.
    """
    return {
        "listeners": {_LISTENER: {"type": "external"}},
        "plugins": {_ADMISSION_PLUGIN: {}},
        "session_expiry_interval": session_expiry,
    }


def _start_failure(where: str, cause: OSError) -> str:
    if cause.errno == errno.EADDRINUSE:
        return (
            f"cannot start the embedded MQTT broker on {where}: the port is already in use "
            "(another MQTT broker such as Mosquitto?). To use that broker, set mqtt_url "
            "(e.g. mqtt://127.0.0.1:1883, or OMP_MQTT_URL); to keep the embedded one, set "
            "broker_port (OMP_BROKER_PORT) to a free port"
        )
    if cause.errno == errno.EACCES:
        return (
            f"cannot start the embedded MQTT broker on {where}: permission denied "
            "(ports below 1024 need privileges); set broker_port to 1883 or above"
        )
    return f"cannot start the embedded MQTT broker on {where}: {cause}"


def _quiet_amqtt_logs() -> None:
    """amqtt logs every connection at INFO; keep its warnings, drop the chatter.

    Only loggers nobody configured are touched, so an operator who asks for
    amqtt's debug output still gets it.
    """
    for name in ("amqtt", "transitions"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)

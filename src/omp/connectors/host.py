"""``ConnectorHost``: runs every configured connector and keeps it running.

Each connector gets its own thread and asyncio loop, so a slow decoder or a
blocking submit under backpressure never stalls another protocol's
keepalives. A supervisor task per connector calls ``Connector.run``; when it
returns or raises, the host records the loss (``ConnectionLostError`` and OSError
are lost links, anything else a crash, logged with its traceback once per
distinct error), waits a jittered exponential backoff, and runs it again. A
connector therefore never takes the platform down, and a crash is visible
in health (``restarts``, ``crashes``, ``last_error``).

The host is a platform service (``name``, ``start``, ``stop``, ``health``).
``reload`` applies a new model: connectors whose options and bound addresses
did not change keep running; the rest restart. ``write`` is the write-back
path for setpoints.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from pydantic import ValidationError

from omp.connectors.backoff import Backoff
from omp.connectors.base import (
    ConnectionLostError,
    Connector,
    ConnectorPlugin,
    ConnectorSpec,
    Options,
    Session,
    WriteError,
    WriteValue,
    first_option_problem,
)
from omp.connectors.feed import Feed
from omp.connectors.health import ConnectorHealth
from omp.core.errors import BackpressureError, ConfigError
from omp.core.sink import ConnectorSink
from omp.core.time import Clock, system_clock
from omp.model import Registry
from omp.model.kinds import Datatype, Kind
from omp.model.kinds import Protocol as Wire

log = logging.getLogger("omp.connectors")

STABLE_LINK = 10_000_000
"""A link that held this long (µs) resets the backoff; a device that accepts the connection
and drops it at once keeps backing off instead of being retried in a tight loop."""

DEFAULT_FLUSH_INTERVAL = 0.02
"""Seconds between the host's flushes of each connector's feed: the batching latency."""


def connector_specs(
    registry: Registry, plugins: Mapping[Wire, ConnectorPlugin], *, broker_url: str | None = None
) -> dict[str, ConnectorSpec[Options]]:
    """Every connector of the model with typed options; ``ConfigError`` names a bad one."""
    specs: dict[str, ConnectorSpec[Options]] = {}
    for name, connector in registry.model.connectors.items():
        plugin = plugins.get(connector.protocol)
        if plugin is None:
            raise ConfigError(f"connector {name!r}: no connector for protocol {connector.protocol}")
        try:
            options = plugin.options.model_validate(connector.options)
        except ValidationError as exc:
            raise ConfigError(f"connector {name!r}: option {first_option_problem(exc)}") from None
        bindings = registry.bindings_for(name)
        specs[name] = ConnectorSpec(name, connector.protocol, options, bindings, broker_url)
    return specs


class ConnectorHost:
    """Runs connectors; see the module docstring."""

    name = "connectors"

    def __init__(
        self,
        registry: Registry,
        sink: ConnectorSink,
        plugins: Mapping[Wire, ConnectorPlugin],
        *,
        clock: Clock = system_clock,
        backoff: Callable[[], Backoff] = Backoff,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        stop_timeout: float = 10.0,
        broker_url: str | None = None,
    ) -> None:
        self._sink = sink
        self._plugins = plugins
        self._clock = clock
        self._backoff = backoff
        self._flush_interval = flush_interval
        self._stop_timeout = stop_timeout
        self._registry = registry
        self._broker_url = broker_url
        self._specs = connector_specs(registry, plugins, broker_url=broker_url)
        self._runners: dict[str, _Runner] = {}
        self._lock = threading.Lock()
        self._running = False

    @property
    def connector_names(self) -> tuple[str, ...]:
        return tuple(self._specs)

    def start(self) -> None:
        with self._lock:
            self._running = True
            for spec in self._specs.values():
                self._start_runner(spec)

    def stop(self) -> None:
        """Stop every connector and flush what they hold; waits at most ``stop_timeout`` each."""
        with self._lock:
            self._running = False
            runners, self._runners = list(self._runners.values()), {}
        for runner in runners:
            runner.request_stop()
        for runner in runners:
            runner.join(self._stop_timeout)

    def reload(self, registry: Registry) -> list[str]:
        """Apply a new model; returns the names of connectors (re)started or stopped.

        Raises ``ConfigError`` (and changes nothing) when a connector's options are bad.
        """
        specs = connector_specs(registry, self._plugins, broker_url=self._broker_url)
        changed: list[str] = []
        with self._lock:
            self._registry, old_specs, self._specs = registry, self._specs, specs
            if not self._running:
                return list(specs)
            for name in list(self._runners):
                new = specs.get(name)
                if new is None or new.fingerprint() != old_specs[name].fingerprint():
                    runner = self._runners.pop(name)
                    runner.request_stop()
                    runner.join(self._stop_timeout)
                    changed.append(name)
                else:
                    self._runners[name].spec = new
            for name, spec in specs.items():
                if name not in self._runners:
                    self._start_runner(spec)
                    if name not in changed:
                        changed.append(name)
        if changed:
            log.info("connectors reloaded: %s", ", ".join(sorted(changed)))
        return changed

    def health(self) -> dict[str, Any]:
        with self._lock:
            runners = dict(self._runners)
        return {name: runner.health.snapshot() for name, runner in sorted(runners.items())}

    def connector_health(self, name: str) -> ConnectorHealth:
        """The live health record of one running connector (``KeyError`` when not running)."""
        with self._lock:
            return self._runners[name].health

    def write(self, signal_path: str, value: WriteValue, *, timeout: float = 5.0) -> None:
        """Write a setpoint to its device, converted back into the source's raw unit.

        Raises ``UnknownSignalError`` for an unknown path and ``WriteError`` naming
        the reason: not a setpoint, not bound, connector not running, no link,
        refused by the device, or no answer within ``timeout`` seconds.
        """
        registry = self._registry
        signal = registry.signal(signal_path)
        if signal.kind is not Kind.SETPOINT:
            raise WriteError(
                f"signal {signal_path!r} is {signal.kind.with_article}; only setpoints are written"
            )
        binding = next(
            (
                b
                for c in registry.connectors
                for b in registry.bindings_for(c).values()
                if b.signal is signal
            ),
            None,
        )
        if binding is None:
            raise WriteError(f"setpoint {signal_path!r} is bound to no source address")
        raw = _raw_value(
            value, signal.datatype, binding.conversion.scale, binding.conversion.offset
        )
        with self._lock:
            runner = self._runners.get(binding.connector)
        if runner is None:
            raise WriteError(f"connector {binding.connector!r} of {signal_path!r} is not running")
        runner.write(binding.address, raw, timeout)

    def _start_runner(self, spec: ConnectorSpec[Options]) -> None:
        connector = self._plugins[spec.protocol].create(spec)
        runner = _Runner(
            spec,
            connector,
            Feed(spec.name, self._sink),
            ConnectorHealth(spec.name, self._clock),
            clock=self._clock,
            backoff=self._backoff(),
            flush_interval=self._flush_interval,
        )
        self._runners[spec.name] = runner
        runner.start()


def _raw_value(value: WriteValue, datatype: Datatype, scale: float, offset: float) -> WriteValue:
    """The model's engineering value back in the source's terms (inverse of the binding)."""
    if isinstance(value, str) or datatype is Datatype.STRING:
        raise WriteError(f"text value {value!r} cannot be written to a numeric setpoint")
    if datatype is Datatype.BOOL:
        if value not in (0, 1, True, False):
            raise WriteError(f"value {value!r} is not a bool")
        return bool(value)
    raw = (float(value) - offset) / scale
    if datatype is Datatype.INT:
        return round(raw)
    return raw


class _Runner:
    """One connector's thread, loop and supervisor."""

    def __init__(
        self,
        spec: ConnectorSpec[Options],
        connector: Connector,
        feed: Feed,
        health: ConnectorHealth,
        *,
        clock: Clock,
        backoff: Backoff,
        flush_interval: float,
    ) -> None:
        self.spec = spec
        self.connector = connector
        self.feed = feed
        self.health = health
        self._clock = clock
        self._backoff = backoff
        self._flush_interval = flush_interval
        self._loop = asyncio.new_event_loop()
        self._task: asyncio.Task[None] | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(
            target=self._main, name=f"omp-connector-{spec.name}", daemon=True
        )
        self._log = logging.getLogger(f"omp.connectors.{spec.name}")

    def start(self) -> None:
        self._thread.start()
        self._ready.wait()

    def request_stop(self) -> None:
        if self._task is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._task.cancel)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("connector %r did not stop within %.0f s", self.spec.name, timeout)

    def write(self, address: str, value: WriteValue, timeout: float) -> None:
        if not self.health.is_connected:
            raise WriteError(f"connector {self.spec.name!r} has no link ({self.health.state})")
        future = asyncio.run_coroutine_threadsafe(self.connector.write(address, value), self._loop)
        try:
            future.result(timeout)
        except FutureTimeout:
            future.cancel()
            raise WriteError(
                f"connector {self.spec.name!r}: no answer writing {address!r} within {timeout} s"
            ) from None

    def _main(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._task = self._loop.create_task(self._supervise())
        self._ready.set()
        try:
            self._loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        finally:
            self._final_flush()
            self.health.stopped()
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    async def _supervise(self) -> None:
        flusher = asyncio.create_task(self._flush_forever())
        last_crash: str | None = None
        try:
            while True:
                session = Session(self.spec, self.feed, self.health, self._clock, self._log)
                crashed = False
                try:
                    await self.connector.run(session)
                    reason = "the connector ended its session"
                except (ConnectionLostError, OSError, TimeoutError) as exc:
                    reason = str(exc) or type(exc).__name__
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # a crash: reported and restarted, never fatal
                    crashed = True
                    reason = f"crashed: {type(exc).__name__}: {exc}"
                    if reason != last_crash:
                        self._log.exception("connector %r crashed", self.spec.name)
                    last_crash = reason
                if self.health.connected_for() >= STABLE_LINK:
                    self._backoff.reset()  # it worked for a while: retry quickly
                self.health.lost(reason)
                self._try_flush()
                self.health.restarted(crashed=crashed)
                await asyncio.sleep(self._backoff.next_delay())
        finally:
            flusher.cancel()

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(self._flush_interval)
            self._try_flush()

    def _try_flush(self) -> None:
        try:
            self.feed.flush()
        except BackpressureError as exc:
            self.health.error(f"historian backpressure, holding {self.feed.pending} values: {exc}")
        except Exception as exc:  # the sink failing must not stop the connector
            self.health.error(f"submitting values failed: {type(exc).__name__}: {exc}")
            self._log.exception("connector %r: submitting values failed", self.spec.name)

    def _final_flush(self) -> None:
        try:
            self.feed.flush()
        except Exception as exc:
            log.error(
                "connector %r stopped holding %d values it could not submit: %s",
                self.spec.name,
                self.feed.pending,
                exc,
            )

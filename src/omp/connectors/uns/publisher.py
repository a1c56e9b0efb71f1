"""The UNS publisher: the bus's values and events, republished to MQTT under one namespace.

``UnsPublisher`` is a platform service (``name``, ``start``, ``stop``,
``health``). It subscribes to the bus; the bus callbacks run on the ingest
thread and only hand batches over (see ``handoff``). Its own thread runs an
asyncio loop that folds batches into the latest-value backlog, encodes JSON
and publishes with gmqtt, reconnecting with ``Backoff`` when the broker goes.

After every (re)connect the latest value of each retained signal is published
again, so a broker that lost its retained messages is complete again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from omp.bus import Bus, Subscription
from omp.connectors.backoff import Backoff
from omp.connectors.mqtt_transport import MqttEndpoint
from omp.connectors.uns.backlog import Backlog, Pending
from omp.connectors.uns.handoff import Handoff
from omp.connectors.uns.link import LinkError, close_link, open_link
from omp.connectors.uns.options import UnsOptions
from omp.connectors.uns.payload import encode_event, encode_value
from omp.connectors.uns.policy import SignalPolicy, resolve
from omp.connectors.uns.stats import PublisherStats
from omp.core.events import Event
from omp.core.time import Clock
from omp.model.registry import Registry

_YIELD_EVERY = 256
"""Publishes between turns of the loop, so the socket drains and a lost link is noticed."""
_STOP_GRACE_S = 2.0
"""How long stop() lets the publisher finish what is due before it cancels a connect."""
_STOP_TIMEOUT_S = 10.0


def monotonic_micros() -> int:
    return time.monotonic_ns() // 1_000


class UnsPublisher:
    """Republishes normalised values and events to ``<prefix>/<path>`` on an MQTT broker."""

    name = "uns"

    def __init__(
        self,
        registry: Registry,
        bus: Bus,
        endpoint: MqttEndpoint,
        options: UnsOptions | None = None,
        *,
        backoff: Callable[[], Backoff] = Backoff,
        clock: Clock = monotonic_micros,
    ) -> None:
        self._options = options or UnsOptions()
        self._bus = bus
        self._endpoint = endpoint
        self._backoff = backoff
        self._policies = resolve(registry, self._options)
        self._backlog = Backlog({sid: p.min_interval for sid, p in self._policies.items()})
        self._handoff = Handoff(self._backlog, clock, max_events=self._options.event_backlog)
        self._clock = clock
        self._stats = PublisherStats(broker=endpoint.redacted_url if endpoint.url else "(none)")
        self._retained: dict[str, bytes] = {}
        self._subscription: Subscription | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._lost = False
        self._link_number = 0

    def start(self) -> None:
        """Subscribe to the bus and start publishing (no-op when disabled or started)."""
        if not self._options.enabled or self._thread is not None:
            return
        self._stopping = False
        runner = asyncio.Runner()
        loop = runner.get_loop()
        self._loop, self._wake = loop, asyncio.Event()
        self._handoff.set_wake(self._waker(loop))
        self._thread = threading.Thread(
            target=self._serve, args=(runner,), name="omp-uns", daemon=True
        )
        self._thread.start()
        self._subscription = self._bus.subscribe(
            self.name,
            on_batch=self._handoff.put_batch,
            on_events=self._handoff.put_events if self._options.events else None,
        )

    def stop(self) -> None:
        """Unsubscribe, publish what is due, disconnect and end the thread (idempotent).

        A connect attempt under way is abandoned after a short grace period.
        """
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._stopping = True
        self._call(loop, self._wake.set)
        thread.join(_STOP_GRACE_S)
        if thread.is_alive() and self._task is not None:
            self._call(loop, self._task.cancel)
            thread.join(_STOP_TIMEOUT_S)
        self._loop = self._thread = self._task = None
        self._stats.connected = False

    def use_registry(self, registry: Registry) -> None:
        """Publish by a newly compiled model (after a reload); signals keep their ids."""
        policies = resolve(registry, self._options)
        self._handoff.set_intervals({sid: p.min_interval for sid, p in policies.items()})
        self._policies = policies

    def health(self) -> dict[str, object]:
        stats = self._stats
        return {
            "name": self.name,
            "enabled": self._options.enabled,
            "broker": stats.broker,
            "connected": stats.connected,
            "published": stats.published,
            "events_published": stats.events_published,
            "coalesced": self._backlog.coalesced,
            "pending": len(self._backlog),
            "events_dropped": self._handoff.events_dropped,
            "unknown_signals": self._backlog.unknown,
            "errors": stats.errors,
            "last_error": stats.last_error,
        }

    def _waker(self, loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
        return lambda: self._call(loop, self._wake.set)

    @staticmethod
    def _call(loop: asyncio.AbstractEventLoop, callback: Callable[[], object]) -> None:
        # A closed loop means the publisher has stopped; there is nothing left to tell it.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(callback)

    def _serve(self, runner: asyncio.Runner) -> None:
        """The publisher thread: run until stopped; the runner then ends every task left."""
        try:
            runner.run(self._main())
        except asyncio.CancelledError:
            pass  # stop() gave up waiting for a connect attempt
        finally:
            runner.close()

    async def _main(self) -> None:
        self._task = asyncio.current_task()
        backoff = self._backoff()
        client_id = self._endpoint.client_id or "omp-uns"
        while not self._stopping:
            self._lost = False
            self._link_number += 1
            on_lost = functools.partial(self._on_lost, self._link_number)
            try:
                client = await open_link(self._endpoint, client_id, on_lost)
            except LinkError as exc:
                self._stats.failed(str(exc))
                await self._idle(backoff.next_delay())
                continue
            backoff.reset()
            self._stats.up()
            try:
                await self._publish_until_lost(client)
            finally:
                await close_link(client)
            if self._lost and not self._stopping:
                self._stats.failed(f"lost the link to {self._stats.broker}")
        self._stats.connected = False

    def _on_lost(self, link_number: int) -> None:
        if link_number != self._link_number:
            return  # a late word from a link already replaced
        self._lost = True
        self._wake.set()

    async def _idle(self, delay: float) -> None:
        """Wait ``delay`` seconds for the next attempt, folding hand-overs meanwhile."""
        deadline = time.monotonic() + delay
        while not self._stopping and (remaining := deadline - time.monotonic()) > 0:
            self._wake.clear()
            self._handoff.rearm()
            self._handoff.fold()
            await _wait(self._wake, remaining)

    async def _publish_until_lost(self, client: Any) -> None:
        await self._send(client, list(self._retained.items()), retain=True)
        while not self._lost:
            self._wake.clear()
            self._handoff.rearm()
            due, next_due = self._handoff.take_due()
            await self._publish_values(client, due)
            await self._publish_events(client, self._handoff.take_events())
            if self._stopping:
                return
            timeout = None if next_due is None else max(0, next_due - self._clock()) / 1e6
            await _wait(self._wake, timeout)

    async def _publish_values(self, client: Any, due: Sequence[Pending]) -> None:
        messages = self._encode(due)
        qos = self._options.qos
        for count, (topic, payload, retain) in enumerate(messages, 1):
            client.publish(topic, payload, qos=qos, retain=retain)
            self._stats.published += 1
            if count % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
                if self._lost:
                    return  # the retained ones among the rest go out again on reconnect

    def _encode(self, due: Sequence[Pending]) -> list[tuple[str, bytes, bool]]:
        """(topic, payload, retain) per value; retained payloads are remembered first, so a
        link lost halfway loses none of them."""
        policies = self._policies
        messages: list[tuple[str, bytes, bool]] = []
        for sid, ts, value, quality in due:
            policy = policies.get(sid)
            if policy is None:
                continue  # the signal left the model in a reload
            payload = _value_payload(policy, ts, value, quality)
            if policy.retain:
                self._retained[policy.topic] = payload
            messages.append((policy.topic, payload, policy.retain))
        return messages

    async def _publish_events(self, client: Any, events: Sequence[Event]) -> None:
        prefix, retain, qos = self._options.prefix, self._options.events_retain, self._options.qos
        for event in events:
            topic = f"{prefix}/{event.asset}/_events/{event.kind.value}"
            client.publish(topic, encode_event(event), qos=qos, retain=retain)
            self._stats.events_published += 1
        if events:
            await asyncio.sleep(0)

    async def _send(
        self, client: Any, messages: Sequence[tuple[str, bytes]], *, retain: bool
    ) -> None:
        for count, (topic, payload) in enumerate(messages, 1):
            client.publish(topic, payload, qos=self._options.qos, retain=retain)
            if count % _YIELD_EVERY == 0:
                await asyncio.sleep(0)


def _value_payload(policy: SignalPolicy, ts: int, value: float | str, quality: int) -> bytes:
    return encode_value(ts, value, quality, policy.datatype, policy.unit, policy.states)


async def _wait(event: asyncio.Event, timeout: float | None) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout)

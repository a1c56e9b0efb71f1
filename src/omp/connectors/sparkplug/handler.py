"""``HostHandler``: every Sparkplug message the host receives, and the state it keeps.

It follows each edge node's session (NBIRTH with bdSeq, seq 0-255 across
NBIRTH/DBIRTH/NDATA/DDATA/DDEATH, NDEATH), decodes data through the birth's
aliases, marks signals stale on deaths, and asks for a rebirth when it
cannot trust what it has: a sequence gap, an unknown alias, data before a
birth. Bad input is counted with the topic and metric named and never stops
the host. One handler lives for one broker session (the spec starts every
session from births); the MQTT plumbing is ``connector.SparkplugHost``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from google.protobuf.message import DecodeError

from omp.connectors.feed import Feed
from omp.connectors.health import ConnectorHealth
from omp.connectors.sparkplug.births import BD_SEQ, Birth, read_birth
from omp.connectors.sparkplug.decode import Problem, add, decode_fast, decode_one
from omp.connectors.sparkplug.metrics import datatype_name
from omp.connectors.sparkplug.nodes import EdgeNode, Scope
from omp.connectors.sparkplug.rebirth import Rebirths
from omp.connectors.sparkplug.topics import Topic, Verb, parse_topic
from omp.core.errors import BackpressureError
from omp.core.quality import Quality
from omp.core.rejects import RejectReason
from omp.core.time import Clock
from omp.core.wire.sparkplug_b_pb2 import Payload

ROUTE_CACHE_LIMIT = 100_000
"""Parsed topics remembered (a plant has a few thousand edge nodes and devices)."""


class HostHandler:
    """Handles one broker session's messages; see the module docstring."""

    def __init__(
        self,
        feed: Feed,
        health: ConnectorHealth,
        *,
        clock: Clock,
        log: logging.Logger,
        rebirths: Rebirths,
        stale: Quality | None,
        on_own_state: Callable[[bytes], None],
        on_crash: Callable[[Exception], None],
        host_state_topic: str,
    ) -> None:
        self._feed = feed
        feed.ts_unit = 1000  # Sparkplug timestamps are ms; the feed scales each batch once
        self._health = health
        self._clock = clock
        self._log = log
        self._rebirths = rebirths
        self._stale = stale
        self._null_quality = stale if stale is not None else Quality.BAD
        self._on_own_state = on_own_state
        self._on_crash = on_crash
        self._state_topic = host_state_topic
        self.nodes: dict[tuple[str, str], EdgeNode] = {}
        self._routes: dict[str, Topic | None] = {}
        self._warned: set[str] = set()

    def on_message(self, _client: Any, topic: str, payload: bytes, _qos: int, _props: Any) -> None:
        """gmqtt's message callback: route by topic. Bad input is counted, never raised;
        backpressure is noted in health; anything else is a bug handed to ``on_crash``."""
        try:
            route = self._routes.get(topic) or self._route(topic)
            if route is None:
                return
            verb = route.verb
            if verb is Verb.DDATA or verb is Verb.NDATA:
                self._on_data(route, topic, payload)
            elif verb is Verb.NBIRTH:
                self._on_nbirth(route, topic, payload)
            elif verb is Verb.DBIRTH:
                self._on_dbirth(route, topic, payload)
            elif verb is Verb.NDEATH:
                self._on_ndeath(route, topic, payload)
            elif verb is Verb.DDEATH:
                self._on_ddeath(route, topic, payload)
            elif verb is Verb.STATE and topic == self._state_topic:
                self._on_own_state(payload)
            # NCMD/DCMD (ours or another host's) and other hosts' STATE are not data.
        except BackpressureError as exc:
            self._health.error(f"historian backpressure, holding {self._feed.pending}: {exc}")
        except Exception as exc:
            self._on_crash(exc)

    # -- data ---------------------------------------------------------------------------

    def _on_data(self, route: Topic, topic: str, raw: bytes) -> None:
        # The hot path: per message a handful of lookups, per metric decode_fast's loop.
        payload = self._parse(raw, topic)
        if payload is None:
            return
        metrics = payload.metrics
        node = self.nodes.get(route.node_key)
        if node is None or not node.online:
            self._unborn(route, topic, len(metrics))
            return
        scope = node.scope if route.device is None else node.devices.get(route.device)
        if scope is None:
            self._unborn(route, topic, len(metrics))
            return
        seq = payload.seq
        if seq != node.next_seq:
            self._gap(node, node.next_seq, seq, topic)
        node.next_seq = (seq + 1) & 0xFF
        sent_ms = payload.timestamp or self._clock() // 1000
        feed = self._feed
        careful = b"Quality" in raw  # rare: only then read properties per metric
        rest = metrics if careful else decode_fast(scope, metrics, sent_ms, feed)
        for metric in rest:
            problem = decode_one(
                scope, metric, sent_ms, feed, stale=self._null_quality, properties=careful
            )
            if problem is not None:
                self._metric_problem(node, scope, topic, metric, *problem)
        scope.messages += 1
        scope.values += len(metrics)
        feed.flush_if_full()

    def _unborn(self, route: Topic, topic: str, metrics: int) -> None:
        what = "device" if route.device is not None else "edge node"
        self._feed.reject(RejectReason.UNKNOWN_SIGNAL, max(metrics, 1), source=topic)
        self._health.error(f"data before the {what}'s birth on {topic}", device=route.device_name)
        self._rebirths.request(self._node(route), f"data before birth on {topic}")

    def _metric_problem(
        self, node: EdgeNode, scope: Scope, topic: str, metric: Any, problem: Any, definition: Any
    ) -> None:
        if problem is Problem.UNKNOWN_METRIC:
            named = metric.name or f"alias {metric.alias}"
            self._feed.reject(RejectReason.UNKNOWN_SIGNAL, source=f"{topic}: metric {named}")
            self._health.error(f"{topic}: metric {named} is not in the birth", device=scope.name)
            self._rebirths.request(node, f"metric {named} not in the birth of {scope.name}")
            return
        field = metric.WhichOneof("value") or "no value"
        expected = datatype_name(definition.datatype)
        self._feed.reject(RejectReason.WRONG_TYPE, source=f"{topic}: metric {definition.name}")
        self._health.error(
            f"{topic}: metric {definition.name} is {expected} but carries {field}",
            device=scope.name,
        )

    def _check_seq(self, node: EdgeNode, payload: Any, topic: str) -> None:
        expected = node.check_seq(payload.seq)
        if expected is not None:
            self._gap(node, expected, payload.seq, topic)

    def _gap(self, node: EdgeNode, expected: int, seq: int, topic: str) -> None:
        message = f"sequence gap on {topic}: expected {expected}, got {seq}"
        self._health.error(message, device=node.name)
        self._rebirths.request(node, message)

    # -- births ---------------------------------------------------------------------------

    def _on_nbirth(self, route: Topic, topic: str, raw: bytes) -> None:
        payload = self._parse(raw, topic)
        if payload is None:
            return
        node = self._node(route)
        birth = self._birth(node, None, payload, topic)
        node.online, node.bd_seq, node.scope, node.devices = True, birth.bd_seq, birth.scope, {}
        node.next_seq = (payload.seq + 1) & 0xFF
        if payload.seq != 0:
            self._health.error(f"{topic}: NBIRTH seq is {payload.seq}, not 0", device=node.name)
        if birth.bd_seq is None:
            self._health.error(f"{topic}: NBIRTH without a bdSeq metric", device=node.name)
        self._health.connected(device=node.name)

    def _on_dbirth(self, route: Topic, topic: str, raw: bytes) -> None:
        payload = self._parse(raw, topic)
        if payload is None:
            return
        node = self.nodes.get(route.node_key)
        if node is None or not node.online:
            self._unborn(route, topic, len(payload.metrics))
            return
        self._check_seq(node, payload, topic)
        assert route.device is not None  # a device verb always names its device
        node.devices[route.device] = self._birth(node, route.device, payload, topic).scope
        self._health.connected(device=route.device_name)

    def _birth(self, node: EdgeNode, device: str | None, payload: Any, topic: str) -> Birth:
        name = node.name if device is None else f"{node.name}/{device}"
        sent_ms = payload.timestamp or self._clock() // 1000
        birth = read_birth(
            name,
            node.address_prefix(device),
            payload.metrics,
            sent_ms,
            self._feed,
            stale=self._null_quality,
        )
        for definition in birth.unsupported + birth.wrong_values:
            self._feed.reject(RejectReason.WRONG_TYPE, source=f"{topic}: metric {definition.name}")
        for definition in birth.unsupported:
            self._warn_once(
                f"{name}/{definition.name}",
                "%s: metric %r is a %s, which omp does not decode; its values are rejected",
                name,
                definition.name,
                datatype_name(definition.datatype),
            )
        if birth.nameless:
            self._feed.reject(RejectReason.MALFORMED, birth.nameless, source=topic)
        for metric, unit in birth.unknown_units:
            self._warn_once(
                f"{name}/{metric}/{unit}",
                "%s: metric %r has unit %r, which is not UCUM nor a known spelling; "
                "stored without unit",
                name,
                metric,
                unit,
            )
        self._feed.flush_if_full()
        return birth

    # -- deaths ---------------------------------------------------------------------------

    def _on_ndeath(self, route: Topic, topic: str, raw: bytes) -> None:
        payload = self._parse(raw, topic)
        if payload is None:
            return
        node = self.nodes.get(route.node_key)
        if node is None or not node.online:
            return
        bd_seq = next(
            (m.long_value or m.int_value for m in payload.metrics if m.name == BD_SEQ), None
        )
        if bd_seq is not None and node.bd_seq is not None and bd_seq != node.bd_seq:
            node.late_deaths += 1
            self._health.error(
                f"{topic}: ignored an old NDEATH (bdSeq {bd_seq}, the node's birth has "
                f"{node.bd_seq})",
                device=node.name,
            )
            self._warn_once(
                f"late-death {node.name}",
                "%s: ignoring NDEATH with bdSeq %s (current birth has bdSeq %s): a late will",
                node.name,
                bd_seq,
                node.bd_seq,
            )
            return
        self.node_lost(node, self._clock() // 1000, f"NDEATH on {topic}")

    def _on_ddeath(self, route: Topic, topic: str, raw: bytes) -> None:
        payload = self._parse(raw, topic)
        if payload is None:
            return
        node = self.nodes.get(route.node_key)
        if node is None or not node.online or route.device not in node.devices:
            return
        self._check_seq(node, payload, topic)
        assert route.device is not None
        scope = node.devices.pop(route.device)
        at = payload.timestamp or self._clock() // 1000
        self._mark_stale(scope, at)
        self._health.lost(f"DDEATH on {topic}", device=scope.name)

    def node_lost(self, node: EdgeNode, at: int, why: str, *, report: bool = True) -> None:
        """The node's session ended at ``at`` (ms): every signal it and its devices had goes
        stale.

        ``report=False`` (the host is stopping on purpose) leaves health and the log alone.
        """
        for scope in node.scopes():
            self._mark_stale(scope, at)
            if report and scope is not node.scope:
                self._health.lost(why, device=scope.name)
        node.online, node.scope, node.devices = False, None, {}
        if report:
            self._health.lost(why, device=node.name)

    def all_lost(self, why: str, *, report: bool = True) -> None:
        """The host lost the broker (or is stopping): the spec makes every known signal stale."""
        now_ms = self._clock() // 1000
        for node in self.nodes.values():
            if node.online:
                self.node_lost(node, now_ms, why, report=report)

    def _mark_stale(self, scope: Scope, at: int) -> None:
        """Write every last value of ``scope`` again at ``at`` (ms) with the stale quality."""
        if self._stale is None:
            return
        kinds = {d.index: d.kind for d in scope.by_name.values() if d.index >= 0}
        for index, value in scope.last.items():
            add(self._feed, kinds[index], index, at, value, self._stale)

    # -- helpers --------------------------------------------------------------------------

    def _route(self, topic: str) -> Topic | None:
        if topic in self._routes:
            return None  # known not to be Sparkplug
        route = parse_topic(topic)
        if len(self._routes) < ROUTE_CACHE_LIMIT:
            self._routes[topic] = route
        if route is None:
            self._warn_once(topic, "ignoring messages on %r: not a Sparkplug B topic", topic)
        return route

    def _node(self, route: Topic) -> EdgeNode:
        node = self.nodes.get(route.node_key)
        if node is None:
            node = self.nodes[route.node_key] = EdgeNode(route.group, route.node)
        return node

    def _parse(self, raw: bytes, topic: str) -> Any:
        payload = Payload()
        try:
            payload.ParseFromString(raw)
        except DecodeError as exc:
            self._feed.reject(RejectReason.MALFORMED, source=topic)
            self._health.error(f"{topic}: not a Sparkplug B payload ({exc})")
            return None
        return payload

    def report_received(self) -> None:
        """Hand the per-scope message and value counts to health (in bulk: cheap per message)."""
        for node in self.nodes.values():
            for scope in node.scopes():
                if scope.messages:
                    self._health.received(scope.values, device=scope.name, messages=scope.messages)
                    scope.messages = scope.values = 0

    def _warn_once(self, key: str, message: str, *args: object) -> None:
        if key not in self._warned and len(self._warned) < ROUTE_CACHE_LIMIT:
            self._warned.add(key)
            self._log.warning(message, *args)

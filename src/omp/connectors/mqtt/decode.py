"""One MQTT message in, rows in the feed out: the JSON decoding of the MQTT connector.

``MessageDecoder.decode`` finds the configured topic a message arrived on,
parses the JSON once, takes the message's time and quality, and emits each
value with its source address: the topic itself for one value per message,
``<topic>/<field>`` for ``fields`` and ``<topic>/<name>`` for ``readings``.
Input it cannot use is counted with ``feed.reject`` naming the topic (and as
an error of the device in health); it never raises, so one bad message never
costs the link or its neighbours.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from omp.connectors.feed import Feed
from omp.connectors.health import ConnectorHealth
from omp.connectors.mqtt.matching import TopicMatcher
from omp.connectors.mqtt.options import TopicOptions
from omp.connectors.mqtt.paths import MISSING, FieldPath, lookup, parse_path
from omp.connectors.mqtt.quality import to_quality
from omp.connectors.mqtt.timestamps import BadTimestamp, TimestampFormat, to_micros
from omp.core.quality import Quality
from omp.core.rejects import RejectReason
from omp.core.time import Clock

_GOOD = int(Quality.GOOD)
_SCALARS = (int, float, bool, str)


class Refused(Exception):  # noqa: N818  # a refusal with its reason, not a crash
    """Input that cannot become a value; ``reason`` is what it is counted as."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Readings:
    """Where the reading objects are and what each one holds."""

    path: FieldPath
    name: FieldPath
    value: FieldPath
    timestamp: FieldPath | None
    quality: FieldPath | None


@dataclass(frozen=True, slots=True)
class Rule:
    """One configured topic, compiled: how its messages are taken apart."""

    filter: str
    value_text: str | None
    value: FieldPath | None
    fields: tuple[tuple[str, FieldPath], ...] | None
    every_field: bool
    readings: _Readings | None
    timestamp: FieldPath | None
    timestamp_format: TimestampFormat
    quality: FieldPath | None
    unit: str | None
    device_levels: int | None

    @classmethod
    def of(cls, options: TopicOptions) -> Rule:
        fields = options.fields
        readings = None
        if options.readings is not None:
            readings = _Readings(
                parse_path(options.readings),
                parse_path(options.name_field),
                parse_path(options.value_field),
                None if options.timestamp_field is None else parse_path(options.timestamp_field),
                None if options.quality_field is None else parse_path(options.quality_field),
            )
        return cls(
            options.filter,
            options.value,
            options.value_path,
            tuple((f, parse_path(f)) for f in fields) if isinstance(fields, list) else None,
            fields == "*",
            readings,
            options.timestamp_path,
            options.timestamp_format,
            options.quality_path,
            options.unit,
            options.device_levels,
        )

    @property
    def skipped_by_star(self) -> frozenset[str]:
        """Top-level keys ``fields: "*"`` leaves out: the message's time and quality."""
        return frozenset(
            str(path[0]) for path in (self.timestamp, self.quality) if path and len(path) == 1
        )

    def device(self, topic: str) -> str:
        """The health device of a message: the filter, or the topic's leading levels."""
        if self.device_levels is None:
            return self.filter
        return "/".join(topic.split("/", self.device_levels)[: self.device_levels])


class MessageDecoder:
    """Decodes messages of the configured topics into ``feed``; see the module docstring."""

    def __init__(
        self,
        topics: Sequence[TopicOptions],
        feed: Feed,
        health: ConnectorHealth,
        clock: Clock,
        log: logging.Logger,
    ) -> None:
        self._rules = [Rule.of(t) for t in topics]
        self._star_skips = [r.skipped_by_star for r in self._rules]
        self._matcher = TopicMatcher([r.filter for r in self._rules])
        self._feed = feed
        self._health = health
        self._clock = clock
        self._log = log
        self._seen_devices: set[str] = set()  # a decoder lives for one connection
        self._crashed = False

    def decode(self, topic: str, payload: bytes) -> int:
        """Emit the values of one message; returns how many. Never raises."""
        index = self._matcher.match(topic)
        if index is None:
            self._refuse(
                topic, None, RejectReason.UNKNOWN_SIGNAL, "matches no configured topic filter"
            )
            self._health.received(0)
            return 0
        rule = self._rules[index]
        device = rule.device(topic)
        if rule.device_levels is not None and device not in self._seen_devices:
            self._seen_devices.add(device)
            self._health.connected(device=device)
        values = 0
        try:
            values = self._emit(rule, index, topic, orjson.loads(payload))
        except orjson.JSONDecodeError as exc:
            self._refuse(topic, device, RejectReason.MALFORMED, f"payload is not JSON: {exc}")
        except Refused as refused:
            self._refuse(topic, device, refused.reason, str(refused))
        except Exception as exc:  # a decoder bug must not cost the link; counted and logged once
            self._refuse(topic, device, RejectReason.MALFORMED, f"{type(exc).__name__}: {exc}")
            if not self._crashed:
                self._crashed = True
                self._log.exception("decoding a message on %r failed", topic)
        self._health.received(values, device=device)
        self._feed.flush_if_full()
        return values

    def _emit(self, rule: Rule, index: int, topic: str, document: object) -> int:
        ts = self._message_time(rule, document)
        quality = _GOOD
        if rule.quality is not None:
            quality = _quality(lookup(document, rule.quality), _GOOD)
        if rule.readings is not None:
            return self._readings(rule, rule.readings, topic, document, ts, quality)
        if rule.fields is not None:
            found = 0
            for name, path in rule.fields:
                raw = lookup(document, path)
                if raw is MISSING:
                    self._refuse(topic, rule, RejectReason.MALFORMED, f"no field {name!r}")
                else:
                    found += self._put(rule, topic, f"{topic}/{name}", raw, ts, quality)
            return found
        if rule.every_field:
            if type(document) is not dict:
                raise Refused(RejectReason.WRONG_TYPE, "payload is not a JSON object")
            skip = self._star_skips[index]
            return sum(
                self._put(rule, topic, f"{topic}/{key}", raw, ts, quality)
                for key, raw in document.items()
                if key not in skip and isinstance(raw, _SCALARS)
            )
        raw = document if rule.value is None else lookup(document, rule.value)
        if raw is MISSING:
            raise Refused(RejectReason.MALFORMED, f"no value field {rule.value_text!r}")
        return self._put(rule, topic, topic, raw, ts, quality)

    def _readings(
        self, rule: Rule, spec: _Readings, topic: str, document: object, ts: int, quality: int
    ) -> int:
        items = lookup(document, spec.path)
        if type(items) is not list:
            raise Refused(RejectReason.MALFORMED, "readings are missing or not a list")
        found = 0
        for item in items:
            try:
                name = lookup(item, spec.name)
                raw = lookup(item, spec.value)
                if type(name) is not str or raw is MISSING:
                    raise Refused(RejectReason.MALFORMED, f"reading {item!r} lacks a name or value")
                at = ts
                if spec.timestamp is not None:
                    at_raw = lookup(item, spec.timestamp)
                    if at_raw is not MISSING and at_raw is not None:
                        at = to_micros(at_raw, rule.timestamp_format)
                good = (
                    quality
                    if spec.quality is None
                    else _quality(lookup(item, spec.quality), quality)
                )
                found += self._put(rule, topic, f"{topic}/{name}", raw, at, good)
            except Refused as refused:
                self._refuse(topic, rule, refused.reason, str(refused))
            except BadTimestamp as bad:
                self._refuse(topic, rule, bad.reason, str(bad))
        return found

    def _message_time(self, rule: Rule, document: object) -> int:
        if rule.timestamp is None:
            return self._clock()
        raw = lookup(document, rule.timestamp)
        if raw is MISSING or raw is None:
            return self._clock()
        try:
            return to_micros(raw, rule.timestamp_format)
        except BadTimestamp as bad:
            raise Refused(bad.reason, str(bad)) from None

    def _put(self, rule: Rule, topic: str, address: str, raw: object, ts: int, quality: int) -> int:
        """One value into the feed; 1 if emitted, 0 if refused (counted)."""
        kind = type(raw)
        feed = self._feed
        if kind is float or kind is int:
            feed.add(feed.address(address, rule.unit), ts, float(raw), quality)  # type: ignore[arg-type]  # int or float here
        elif kind is bool:
            feed.add(feed.address(address, rule.unit), ts, 1.0 if raw else 0.0, quality)
        elif kind is str:
            feed.add_text(feed.address(address, rule.unit), ts, raw, quality)  # type: ignore[arg-type]  # str here
        else:
            what = "null" if raw is None else type(raw).__name__
            self._refuse(topic, rule, RejectReason.WRONG_TYPE, f"{address}: {what} is not a value")
            return 0
        return 1

    def _refuse(
        self, topic: str, where: Rule | str | None, reason: RejectReason, detail: str
    ) -> None:
        device = where.device(topic) if isinstance(where, Rule) else where
        self._feed.reject(reason, 1, source=topic)
        self._health.error(f"{topic}: {reason.value}: {detail}", device=device)


def _quality(raw: object, default: int) -> int:
    if raw is MISSING or raw is None:
        return default
    quality = to_quality(raw)
    if quality is None:
        raise Refused(
            RejectReason.INVALID_QUALITY, f"quality {raw!r} is not good, uncertain or bad"
        )
    return quality

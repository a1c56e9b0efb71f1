"""MQTT topic filters: checking them, and finding which configured filter a topic matched.

A filter may be a shared subscription, ``$share/<group>/<filter>``: the broker
then hands each message to one member of the group; the part after the group
is what topics are matched against.

>>> matcher = TopicMatcher(["plant/+/temp", "$share/omp/plant/#"])
>>> matcher.match("plant/line1/temp"), matcher.match("plant/line1/x/y"), matcher.match("other")
(0, 1, None)
"""

from __future__ import annotations

from collections.abc import Sequence

CACHE_LIMIT = 100_000
"""Distinct topics remembered with their filter; the cache starts over beyond this."""


def shared_target(filter_text: str) -> str:
    """The filter that topics are matched against: ``$share/g/a/+`` -> ``a/+``."""
    if filter_text.startswith("$share/"):
        return filter_text.split("/", 2)[2]
    return filter_text


def filter_problem(filter_text: str) -> str | None:
    """What is wrong with a subscription filter, or None."""
    if not filter_text:
        return "a topic filter must not be empty"
    if filter_text.startswith("$share/"):
        parts = filter_text.split("/", 2)
        if len(parts) < 3 or not parts[1] or not parts[2]:
            return f"shared subscription {filter_text!r} must look like $share/<group>/<filter>"
        if any(char in parts[1] for char in "+#"):
            return f"shared subscription {filter_text!r}: the group name may not hold + or #"
    levels = shared_target(filter_text).split("/")
    for position, level in enumerate(levels):
        if level == "#" and position != len(levels) - 1:
            return f"topic filter {filter_text!r}: '#' may only be the last level"
        if level not in ("+", "#") and ("+" in level or "#" in level):
            return f"topic filter {filter_text!r}: '+' and '#' must fill a whole level"
    return None


def matches(filter_text: str, topic: str) -> bool:
    """Whether ``topic`` matches ``filter_text`` (a plain filter, not ``$share/...``)."""
    levels = filter_text.split("/")
    parts = topic.split("/")
    if topic.startswith("$") and levels[0] in ("+", "#"):
        return False  # wildcards never match $SYS-like topics at the first level
    for position, level in enumerate(levels):
        if level == "#":
            return True
        if position >= len(parts) or (level != "+" and level != parts[position]):
            return False
    return len(parts) == len(levels)


class TopicMatcher:
    """The first configured filter (by position) each topic matches, cached per topic."""

    def __init__(self, filters: Sequence[str]) -> None:
        self._targets = [shared_target(f) for f in filters]
        self._cache: dict[str, int | None] = {}

    def match(self, topic: str) -> int | None:
        try:
            return self._cache[topic]
        except KeyError:
            pass
        if len(self._cache) >= CACHE_LIMIT:
            self._cache.clear()
        found = next((i for i, f in enumerate(self._targets) if matches(f, topic)), None)
        self._cache[topic] = found
        return found

"""Glob patterns over unified-namespace paths.

``*`` matches within one path level, ``**`` (a whole level) any number of
levels, including none. The MQTT wildcards work too: ``+`` is ``*`` and ``#``
is ``**``. Everything else matches itself.

>>> bool(pattern_regex("acme/**/spindle_*").fullmatch("acme/munich/a/l/c/mill_01/spindle_temp"))
True
>>> is_pattern("acme/munich")
False
"""

from __future__ import annotations

import functools
import re


def is_pattern(text: str) -> bool:
    """Whether ``text`` holds a wildcard, so it is a pattern and not a single path."""
    return any(char in text for char in "*+#")


@functools.lru_cache(maxsize=256)
def pattern_regex(pattern: str) -> re.Pattern[str]:
    """The compiled regex that matches exactly the paths ``pattern`` selects."""
    levels = pattern.strip("/").split("/")
    parts: list[str] = []
    for index, level in enumerate(levels):
        last = index == len(levels) - 1
        if level in ("**", "#"):
            parts.append(".*" if last else "(?:[^/]+/)*")
            continue
        if level == "+":
            level = "*"
        parts.append("[^/]*".join(re.escape(chunk) for chunk in re.split(r"\*+", level)))
        if not last:
            parts.append("/")
    return re.compile("".join(parts))

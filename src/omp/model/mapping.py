"""Mapping rules: bind many source addresses to signals with one line of the model.

A rule pairs a ``source`` pattern with a ``signal`` template. Both are split
on ``/``. In the pattern a level is literal text, ``{name}`` (captures one
level), ``+`` (any one level) or, last, ``#`` (any rest). The template
fills ``{name}`` from the captures and must give the full path of a signal in
the model; a rule that produces no known signal leaves the address unbound.

>>> rule = MapRule.parse("packaging/eol/{device}/{signal}", "acme/munich/{device}/{signal}")
>>> rule.apply("packaging/eol/pal_01/motor_current")
'acme/munich/pal_01/motor_current'
>>> rule.apply("packaging/eol/pal_01/Drive/Current") is None
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CAPTURE = re.compile(r"^\{([a-z][a-z0-9_]*)\}$")
_FILL = re.compile(r"\{([a-z][a-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class MapRule:
    """One compiled rule; ``apply`` answers the signal path or None."""

    source: str
    signal: str
    _levels: tuple[str, ...]
    _rest: bool

    @classmethod
    def parse(cls, source: str, signal: str) -> MapRule:
        """Compile a rule; raises ``ValueError`` naming what is wrong with it."""
        problem = rule_problem(source, signal)
        if problem is not None:
            raise ValueError(problem)
        levels = source.split("/")
        rest = levels[-1] == "#"
        return cls(source, signal, tuple(levels[:-1] if rest else levels), rest)

    def apply(self, address: str) -> str | None:
        """The signal path the rule makes of ``address``, or None when it does not match."""
        parts = address.split("/")
        if len(parts) < len(self._levels) or (len(parts) > len(self._levels) and not self._rest):
            return None
        captured: dict[str, str] = {}
        for level, part in zip(self._levels, parts, strict=False):
            if level == "+":
                continue
            match = _CAPTURE.match(level)
            if match is None:
                if level != part:
                    return None
            elif captured.setdefault(match.group(1), part) != part:
                return None  # the same name twice must capture the same text
        return _FILL.sub(lambda m: captured[m.group(1)], self.signal)


def rule_problem(source: str, signal: str) -> str | None:
    """What is wrong with a rule, or None."""
    levels = source.split("/")
    if "" in levels:
        return f"source pattern {source!r} has an empty level"
    names: set[str] = set()
    for position, level in enumerate(levels):
        if level == "+":
            continue
        if level == "#":
            if position != len(levels) - 1:
                return f"source pattern {source!r}: '#' may only be the last level"
            continue
        match = _CAPTURE.match(level)
        if match is not None:
            names.add(match.group(1))
        elif any(char in level for char in "{}+#"):
            return (
                f"source pattern {source!r}: level {level!r} must be plain text, "
                "'{name}', '+' or a final '#'"
            )
    used = set(_FILL.findall(signal))
    missing = sorted(used - names)
    if missing:
        return f"signal template {signal!r} uses {{{missing[0]}}}, which the source never captures"
    if any(char in _FILL.sub("", signal) for char in "{}+#"):
        return f"signal template {signal!r} may only hold text and '{{name}}' captures"
    return None

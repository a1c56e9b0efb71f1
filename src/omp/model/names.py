"""Names in the model: one safe character set, so every path is a valid MQTT topic.

A name is 1 to 64 characters of lowercase letters, digits, ``_`` and ``-``,
starting with a letter or a digit. That keeps MQTT wildcards (``+``, ``#``),
the level separator ``/``, spaces and case ambiguity out of the unified
namespace, and leaves names starting with ``_`` (like ``_events``) to omp.

>>> check_name("mill_01")
'mill_01'
>>> suggest_name("Mill 01")
'mill_01'
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
NAME_RULE = "use 1-64 lowercase letters, digits, '_' or '-', starting with a letter or digit"


def suggest_name(text: str) -> str:
    """The closest valid name to ``text``: lowercased, other characters as ``_``."""
    lowered = re.sub(r"[^a-z0-9_-]+", "_", text.strip().lower()).strip("_-")
    return lowered[:64]


def check_name(value: object) -> str:
    """Return ``value`` if it is a valid name; raise ``ValueError`` saying why not."""
    if not isinstance(value, str):
        raise ValueError(f"name {value!r} must be text; {NAME_RULE}")  # pydantic wants ValueError
    if NAME_RE.match(value) is None:
        hint = suggest_name(value)
        did_you_mean = f" (did you mean {hint!r}?)" if hint and NAME_RE.match(hint) else ""
        raise ValueError(f"name {value!r} is not allowed{did_you_mean}; {NAME_RULE}")
    return value


def unknown(what: str, name: str, candidates: Iterable[str]) -> str:
    """``unknown connector 'x' (did you mean 'y'?)``, or the known names when none is close."""
    known = sorted(candidates)
    hint = did_you_mean(name, known)
    if not hint:
        shown = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
        hint = f"; known: {shown}" if known else f"; no {what} is defined"
    return f"unknown {what} {name!r}{hint}"


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or an empty string."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""

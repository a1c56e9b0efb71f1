"""Field paths into a decoded JSON payload: dotted keys with ``[n]`` list indexes.

>>> path = parse_path("readings[0].v")
>>> path
('readings', 0, 'v')
>>> lookup({"readings": [{"v": 21.5}]}, path)
21.5
>>> lookup({"readings": []}, path) is MISSING
True
"""

from __future__ import annotations

import re
from typing import Final

FieldPath = tuple[str | int, ...]
"""Steps into a document: a str is a key of an object, an int an index into a list."""


class _Missing:
    """The answer of ``lookup`` when the path does not exist in the document."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

_FIRST = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_NEXT = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


def parse_path(text: str) -> FieldPath:
    """Compile ``data.temp`` or ``readings[0].v``; ``ValueError`` says what is wrong."""
    steps: list[str | int] = []
    position = 0
    while position < len(text):
        match = (_NEXT if steps else _FIRST).match(text, position)
        if match is None:
            raise ValueError(
                f"field path {text!r} is not understood at position {position}: "
                "write keys joined by '.', with [n] for list items (e.g. data.temp, readings[0].v)"
            )
        key, index = match.groups()
        steps.append(key if key is not None else int(index))
        position = match.end()
    if not steps:
        raise ValueError("a field path must not be empty")
    return tuple(steps)


def lookup(document: object, path: FieldPath) -> object:
    """The value at ``path`` in ``document``, or ``MISSING``; never raises."""
    node = document
    for step in path:
        if type(step) is str:
            if type(node) is not dict:
                return MISSING
            node = node.get(step, MISSING)
            if node is MISSING:
                return MISSING
        else:
            if type(node) is not list or step >= len(node):  # type: ignore[operator]  # int here
                return MISSING
            node = node[step]  # type: ignore[index]  # int here
    return node

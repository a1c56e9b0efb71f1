"""Read YAML into plain dicts and lists while remembering the line of every node.

PyYAML's own loader forgets where values came from and silently keeps the
last of two equal mapping keys. This loader composes the node tree, builds
plain Python values from it, records ``path -> line`` for every mapping entry
and list item, and reports duplicate keys (with both lines) instead of
hiding them. Merge keys (``<<: *anchor``) work as in YAML 1.1: explicit keys
override merged ones without a complaint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from omp.core.errors import ConfigError
from omp.model.problems import FilePath, PathKey, Problem

_MERGE_TAG = "tag:yaml.org,2002:merge"

# libyaml's parser is ~10x faster and keeps node marks; the pure-Python one is the fallback.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_Pair = tuple[yaml.Node, yaml.Node]

MAX_NODES = 2_000_000
"""More values than any plant model needs; aliases expanding past it are refused."""


@dataclass(frozen=True, slots=True)
class SourceDoc:
    """A parsed YAML document: the data, where each part came from, and what was wrong."""

    file: str
    data: Any
    lines: dict[FilePath, int] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()

    def line_of(self, path: FilePath) -> int:
        """The line of ``path``, or of its nearest ancestor that is in the file (1 for none)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return 1

    def problem(self, path: FilePath, message: str) -> Problem:
        """A problem at ``path``, with its line looked up."""
        return Problem(file=self.file, line=self.line_of(path), path=path, message=message)


def read_source(path: Path | str) -> SourceDoc:
    """Read and parse a YAML file; syntax errors and duplicate keys become problems.

    Raises ``ConfigError`` when the file cannot be read at all (missing,
    a directory, not UTF-8): that is not a problem *in* the file.
    """
    file_path = Path(path)
    try:
        text = file_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"model file {str(file_path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"model file {str(file_path)!r} cannot be read: {exc}") from None
    return parse_source(text, file=str(file_path))


def parse_source(text: str, *, file: str, max_nodes: int = MAX_NODES) -> SourceDoc:
    """Parse YAML text that came from ``file`` (the name is used in problems only).

    A document that expands to more than ``max_nodes`` values is refused.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        builder = _Builder(loader, file, max_nodes=max_nodes)
        data = None if node is None else builder.build(node, ())
    except yaml.MarkedYAMLError as exc:
        return SourceDoc(file=file, data=None, problems=(_syntax_problem(exc, file),))
    except _RefusedError as exc:
        refused = Problem(file, exc.line, (), exc.message)
        return SourceDoc(file=file, data=None, problems=(refused,))
    except yaml.YAMLError as exc:
        return SourceDoc(file=file, data=None, problems=(Problem(file, 1, (), f"{exc}"),))
    finally:
        loader.dispose()
    if data is None:
        empty = Problem(file, 1, (), "the file is empty; it must hold a mapping")
        return SourceDoc(file=file, data=None, problems=(empty,))
    return SourceDoc(file=file, data=data, lines=builder.lines, problems=tuple(builder.problems))


def _syntax_problem(exc: yaml.MarkedYAMLError, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    parts = [part for part in (exc.context, exc.problem) if part]
    return Problem(file, line, (), "YAML syntax error: " + ", ".join(parts))


class _RefusedError(Exception):
    """A document this loader will not build; becomes one problem at ``line``."""

    def __init__(self, node: yaml.Node, message: str) -> None:
        super().__init__(message)
        self.line = node.start_mark.line + 1
        self.message = message


class _Builder:
    """Turns a composed node tree into plain values, recording lines and duplicates."""

    def __init__(self, loader: yaml.SafeLoader, file: str, *, max_nodes: int) -> None:
        self._loader = loader
        self._max_nodes = max_nodes
        self._file = file
        self.lines: dict[FilePath, int] = {(): 1}
        self.problems: list[Problem] = []
        self._open: set[int] = set()
        self._built = 0
        self._pairs: dict[int, tuple[list[_Pair], list[_Pair]]] = {}

    def build(self, node: yaml.Node, path: FilePath) -> Any:
        self._built += 1
        if self._built > self._max_nodes:
            message = f"more than {self._max_nodes} values (aliases expanding without end?)"
            raise _RefusedError(node, message)
        if id(node) in self._open:
            raise _RefusedError(node, "an alias refers to the node that contains it")
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            if isinstance(node, yaml.SequenceNode):
                return self._sequence(node, path)
            return self._loader.construct_object(node, deep=True)
        finally:
            self._open.discard(id(node))

    def _sequence(self, node: yaml.SequenceNode, path: FilePath) -> list[Any]:
        items = []
        for index, item in enumerate(node.value):
            self.lines[(*path, index)] = item.start_mark.line + 1
            items.append(self.build(item, (*path, index)))
        return items

    def _split(self, node: yaml.MappingNode) -> tuple[list[_Pair], list[_Pair]]:
        """(merged, explicit) entries; once per node, as flattening rewrites it in place."""
        cached = self._pairs.get(id(node))
        if cached is None:
            explicit = [(k, v) for k, v in node.value if k.tag != _MERGE_TAG]
            explicit_ids = {id(k) for k, _ in explicit}
            self._loader.flatten_mapping(node)
            merged = [(k, v) for k, v in node.value if id(k) not in explicit_ids]
            cached = self._pairs[id(node)] = (merged, explicit)
        return cached

    def _mapping(self, node: yaml.MappingNode, path: FilePath) -> dict[Any, Any]:
        merged, explicit = self._split(node)
        result: dict[Any, Any] = {}
        # Merged entries first (later ones win, as PyYAML arranges them), then explicit ones.
        for key_node, value_node in merged:
            self._entry(result, key_node, value_node, path)
        seen: dict[Any, int] = {}
        for key_node, value_node in explicit:
            key = self._key(key_node, path)
            line = key_node.start_mark.line + 1
            if key in seen:
                self.problems.append(
                    Problem(
                        self._file,
                        line,
                        (*path, key),
                        f"duplicate key {key!r} (first at line {seen[key]}); "
                        "each name may appear once",
                    )
                )
                continue
            seen[key] = line
            self._entry(result, key_node, value_node, path)
        return result

    def _entry(
        self, result: dict[Any, Any], key_node: yaml.Node, value_node: yaml.Node, path: FilePath
    ) -> None:
        key = self._key(key_node, path)
        child: FilePath = (*path, key)
        self.lines[child] = key_node.start_mark.line + 1
        result[key] = self.build(value_node, child)

    def _key(self, node: yaml.Node, path: FilePath) -> PathKey:
        if not isinstance(node, yaml.ScalarNode):
            line = node.start_mark.line + 1
            self.problems.append(
                Problem(self._file, line, path, "a mapping key must be a plain name, not a list")
            )
            return f"<key at line {line}>"
        key = self._loader.construct_object(node, deep=True)
        if isinstance(key, int) and not isinstance(key, bool) and path[-1:] == ("states",):
            return key  # state codes are numbers; every other key is a name, `10:` included
        if isinstance(key, str):
            return key
        # YAML 1.1 reads `on:` or `no:` as booleans; as a key the written text is meant.
        return str(node.value)

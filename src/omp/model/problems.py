"""Problems found in a model file, and the error that carries all of them.

A problem names the file, the line, the path inside the file and what is
wrong, so ``omp check`` can print one line per problem:

>>> str(Problem(file="factory.yaml", line=42, path=("sites", "munich"), message="boom"))
'factory.yaml:42: sites.munich: boom'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from omp.core.errors import ConfigError

PathKey = str | int
"""One step of a path inside the file: a mapping key or a list index."""

FilePath = tuple[PathKey, ...]


def format_path(path: FilePath) -> str:
    """Dotted form of a file path: ``sites.munich.areas`` or ``<root>`` for the empty path."""
    return ".".join(str(step) for step in path) if path else "<root>"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a model file. ``line`` is 1-based; 0 when unknown."""

    file: str
    line: int
    path: FilePath
    message: str

    @property
    def dotted_path(self) -> str:
        return format_path(self.path)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.dotted_path}: {self.message}"


def sort_problems(problems: Sequence[Problem]) -> list[Problem]:
    """Problems in file order, each reported once."""
    unique = dict.fromkeys(problems)
    return sorted(unique, key=lambda p: (p.file, p.line, format_path(p.path), p.message))


class ModelInvalid(ConfigError):  # noqa: N818  # the name the CLI and runtime were promised
    """The model file has problems; ``problems`` lists every one of them, in file order."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = sort_problems(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the factory model"
        super().__init__("\n".join([head, *(str(p) for p in self.problems)]))

"""Where the CLI writes, and how expected errors end a command.

Results go to stdout, messages and progress to stderr, so
``omp query ... --format csv > file`` stays clean. An expected error
(``OmpError``) prints one line naming the culprit and exits non-zero; only a
bug shows a traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from omp.core.errors import OmpError

P = ParamSpec("P")
R = TypeVar("R")

EXIT_FAILED = 1
"""The command failed and changed nothing (bad model, bad file, unreachable historian)."""
EXIT_PARTIAL = 3
"""An import landed its good rows but rejected some."""
EXIT_INTERRUPTED = 130
"""Stopped by Ctrl-C (128 + SIGINT); an import says what landed before it stopped."""

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def fail(message: str, *, code: int = EXIT_FAILED) -> typer.Exit:
    """Print ``error: message`` on stderr; return the ``Exit`` to raise."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    return typer.Exit(code)


def guarded(command: Callable[P, R]) -> Callable[P, R]:
    """Turn ``OmpError`` into one clear line and exit code 1 (keeps the signature for Typer)."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except OmpError as exc:
            raise fail(_escape(str(exc))) from None

    return wrapper


def _escape(text: str) -> str:
    # Messages quote user input (paths, globs with [..]); Rich must not read it as markup.
    return text.replace("[", r"\[")

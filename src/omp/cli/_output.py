"""Where the CLI writes, and how expected errors end a command.

Results go to stdout, messages and progress to stderr, so
``omp query ... --format csv > file`` stays clean. An expected error
(``OmpError``) prints one line naming the culprit and exits non-zero; only a
bug shows a traceback. A closed stdout (``| head``) ends the command quietly
with 141, as ``cat`` or ``yes`` would end.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from omp.core.errors import OmpError

P = ParamSpec("P")
R = TypeVar("R")

EXIT_FAILED = 1
"""The command failed and changed nothing (bad model, bad file, unreachable historian)."""
EXIT_BROKEN_PIPE = 141
"""stdout's reader went away (``omp query ... | head``): 128 + SIGPIPE, quietly, like Unix tools."""
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
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(EXIT_BROKEN_PIPE) from None

    return wrapper


def _silence_stdout() -> None:
    # Python flushes stdout at exit; into a closed pipe that prints another error.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is not a real file (tests): nothing to flush
        return


def _escape(text: str) -> str:
    # Messages quote user input (paths, globs with [..]); Rich must not read it as markup.
    return text.replace("[", r"\[")

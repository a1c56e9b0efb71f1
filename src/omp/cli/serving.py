"""What the long-running commands (``omp run``, ``omp demo``) share: logging, signals, the
instance file, and waiting for Ctrl-C."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from rich.logging import RichHandler

from omp.cli._output import err, fail
from omp.cli.remote import live_instance
from omp.runtime.instance import InstanceInfo, record_model, remove_instance, write_instance
from omp.runtime.platform import Platform
from omp.runtime.settings import Settings

PROTOCOL_LIBRARIES = ("asyncua", "pymodbus", "gmqtt", "amqtt", "transitions")


def configure_logging(level: str) -> None:
    # The one process-wide logging setup: `omp run` is the program, not a library.
    number = logging.getLevelName(level.upper())
    if not isinstance(number, int):
        raise fail(f"--log-level {level!r} is not one of debug, info, warning, error")
    logging.basicConfig(
        level=number,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False, rich_tracebacks=False)],
    )
    # The protocol libraries log every failed attempt (pymodbus with hex dumps); omp's own
    # connector log says each transition once and health counts the rest. Their output is
    # for debugging a device: shown with --log-level debug only.
    if number > logging.DEBUG:
        for library in PROTOCOL_LIBRARIES:
            logging.getLogger(library).setLevel(logging.CRITICAL)


def refuse_second_instance(settings: Settings) -> None:
    instance = live_instance(settings.data_dir)
    if instance is not None:
        raise fail(
            f"an omp instance (pid {instance.pid}) already runs on {settings.data_dir}, "
            f"serving {instance.api_url}; stop it first or use another --data-dir"
        )


@contextmanager
def stop_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM, SIGINT or Ctrl-C while the block runs.

    Installed before the instance announces itself, so a signal sent as soon
    as the announcement appears still stops the instance cleanly.
    """
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def serve_until_stopped(
    platform: Platform,
    settings: Settings,
    *,
    model_file: Path,
    api_url: str,
    banner: str,
    stop: threading.Event,
) -> None:
    """Announce the running instance, print ``banner`` and wait for ``stop``; then say so.

    The platform must already be running; the caller stops it (leaving the
    ``with platform`` block flushes the historian).
    """
    info = InstanceInfo(
        pid=os.getpid(),
        api_url=api_url,
        historian=platform.describe(),
        model_version=platform.registry.version,
    )
    write_instance(settings.data_dir, info)
    record_model(settings.data_dir, model_file)
    try:
        err.print(banner, highlight=False)
        while not stop.wait(timeout=1.0):
            pass
        err.print("stopping: flushing the historian ...", highlight=False)
    finally:
        remove_instance(settings.data_dir, pid=info.pid)

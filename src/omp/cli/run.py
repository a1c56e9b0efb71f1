"""``omp run factory.yaml``: the runtime and its read API until Ctrl-C or SIGTERM."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.logging import RichHandler

from omp.cli._output import err, fail, guarded
from omp.cli.options import ConfigOpt, DataDirOpt, HistorianOpt, settings_from
from omp.cli.remote import live_instance
from omp.runtime.connectors import attach_connectors, check_options
from omp.runtime.instance import InstanceInfo, record_model, remove_instance, write_instance
from omp.runtime.platform import Platform
from omp.runtime.settings import Settings

PROTOCOL_LIBRARIES = ("asyncua", "pymodbus", "gmqtt", "amqtt", "transitions")


def _configure_logging(level: str) -> None:
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


def _refuse_second_instance(settings: Settings) -> None:
    instance = live_instance(settings.data_dir)
    if instance is not None:
        raise fail(
            f"an omp instance (pid {instance.pid}) already runs on {settings.data_dir}, "
            f"serving {instance.api_url}; stop it first or use another --data-dir"
        )


@contextmanager
def _stop_signals() -> Iterator[threading.Event]:
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


def _banner(model_file: Path, platform: Platform, api_url: str, broker_url: str | None) -> str:
    connectors = ", ".join(
        f"{name} ({connector.protocol})"
        for name, connector in platform.registry.model.connectors.items()
    )
    return (
        f"omp running: model {model_file} (version {platform.registry.version}), "
        f"{len(platform.registry)} signals\n"
        f"  historian  {platform.describe()}\n"
        f"  read API   {api_url}  (health: {api_url}/health, unmapped: {api_url}/sources)\n"
        f"  MQTT       {broker_url or 'none needed'}\n"
        f"  connectors {connectors or 'none'}\n"
        f"  services   {', '.join(platform.service_names)}\n"
        "Ctrl-C stops."
    )


@guarded
def run(
    model_file: Annotated[Path, typer.Argument(help="The factory model (factory.yaml).")],
    data_dir: DataDirOpt = None,
    historian: HistorianOpt = None,
    api_port: Annotated[
        int | None, typer.Option("--api-port", help="Read API port on 127.0.0.1 (0: any free).")
    ] = None,
    mqtt: Annotated[
        str | None,
        typer.Option("--mqtt", help="The MQTT broker URL (default: start the embedded one)."),
    ] = None,
    broker_port: Annotated[
        int | None,
        typer.Option("--broker-port", help="Embedded broker port on 127.0.0.1 (0: any free)."),
    ] = None,
    config: ConfigOpt = None,
    log_level: Annotated[
        str, typer.Option("--log-level", help="debug, info, warning or error (to stderr).")
    ] = "info",
) -> None:
    """Start the platform and its read API; stop cleanly (flushing the historian) on Ctrl-C."""
    # Imported here: the web stack is only needed by `omp run`, other commands start faster.
    from omp.api import ApiServer, create_app

    _configure_logging(log_level)
    settings = settings_from(
        config=config,
        data_dir=data_dir,
        historian=historian,
        api_port=api_port,
        mqtt_url=mqtt,
        broker_port=broker_port,
    )
    _refuse_second_instance(settings)
    platform = Platform.open(settings, model_file=model_file, check_options=check_options)
    try:
        broker_url = attach_connectors(platform)
    except BaseException:
        platform.stop()
        raise
    app = create_app(platform, host=settings.api_host)
    api = ApiServer(app, host=settings.api_host, port=settings.api_port)
    platform.add_service(api)
    with _stop_signals() as stop, platform:
        info = InstanceInfo(
            pid=os.getpid(),
            api_url=api.url,
            historian=platform.describe(),
            model_version=platform.registry.version,
        )
        write_instance(settings.data_dir, info)
        record_model(settings.data_dir, model_file)
        try:
            err.print(_banner(model_file, platform, api.url, broker_url), highlight=False)
            while not stop.wait(timeout=1.0):
                pass
            err.print("stopping: flushing the historian ...", highlight=False)
        finally:
            remove_instance(settings.data_dir, pid=info.pid)
    err.print("stopped", highlight=False)

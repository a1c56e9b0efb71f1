"""``omp run factory.yaml``: the runtime and its read API until Ctrl-C or SIGTERM."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from omp.cli._output import err, guarded
from omp.cli.options import ConfigOpt, DataDirOpt, HistorianOpt, settings_from
from omp.cli.serving import (
    configure_logging,
    refuse_second_instance,
    serve_until_stopped,
    stop_signals,
)
from omp.runtime.connectors import attach_connectors, check_options
from omp.runtime.platform import Platform


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

    configure_logging(log_level)
    settings = settings_from(
        config=config,
        data_dir=data_dir,
        historian=historian,
        api_port=api_port,
        mqtt_url=mqtt,
        broker_port=broker_port,
    )
    refuse_second_instance(settings)
    platform = Platform.open(settings, model_file=model_file, check_options=check_options)
    try:
        broker_url = attach_connectors(platform)
    except BaseException:
        platform.stop()
        raise
    app = create_app(platform, host=settings.api_host)
    api = ApiServer(app, host=settings.api_host, port=settings.api_port)
    platform.add_service(api)
    with stop_signals() as stop, platform:
        serve_until_stopped(
            platform,
            settings,
            model_file=model_file,
            api_url=api.url,
            banner=_banner(model_file, platform, api.url, broker_url),
            stop=stop,
        )
    err.print("stopped", highlight=False)

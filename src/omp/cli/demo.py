"""``omp demo`` (the simulated plant and the platform in one process) and ``omp sim`` (the
simulated plant alone, as a load generator for a deployment)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer

from omp.cli._output import err, fail, guarded
from omp.cli.serving import (
    configure_logging,
    refuse_second_instance,
    serve_until_stopped,
    stop_signals,
)
from omp.core.time import format_duration, parse_duration, system_clock
from omp.runtime.demo import DemoPlan, assemble_demo, plan_demo, run_simulator
from omp.runtime.settings import DEFAULT_API_PORT, Settings

MachinesOpt = Annotated[
    int,
    typer.Option(
        "--machines", min=1, help="About how many machines (26 is one line of each kind per site)."
    ),
]
SeedOpt = Annotated[int, typer.Option("--seed", help="The run is reproducible from this seed.")]
SpeedOpt = Annotated[
    float, typer.Option("--speed", min=0.001, help="Simulated seconds per wall-clock second.")
]
LogOpt = Annotated[
    str, typer.Option("--log-level", help="debug, info, warning or error (to stderr).")
]
DEFAULT_DEMO_DIR = Path("omp-demo")


def _duration(text: str, option: str) -> int:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise fail(f"{option} {text!r}: {exc}") from None


@guarded
def demo(
    machines: MachinesOpt = 26,
    seed: SeedOpt = 1,
    backfill: Annotated[
        str, typer.Option("--backfill", help="Simulated history to write first (0s: none).")
    ] = "1d",
    history_sample: Annotated[
        str, typer.Option("--history-sample", help="Measurements in the backfill every ...")
    ] = "10s",
    speed: Annotated[
        float,
        typer.Option(
            "--speed",
            min=0.001,
            max=1.0,
            help="Simulated seconds per second, at most 1 (the platform refuses future times).",
        ),
    ] = 1.0,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Where the demo keeps its historian and model.")
    ] = DEFAULT_DEMO_DIR,
    api_port: Annotated[
        int | None,
        typer.Option("--api-port", min=0, max=65535, help="API port on 127.0.0.1 (0: any free)."),
    ] = None,
    broker_port: Annotated[
        int | None, typer.Option("--broker-port", help="Embedded MQTT broker port (0: any free).")
    ] = None,
    opcua_port: Annotated[
        int | None, typer.Option("--opcua-port", help="OPC UA server port (default 4840 if free).")
    ] = None,
    modbus_port: Annotated[
        int | None,
        typer.Option("--modbus-port", help="First Modbus gateway port (default 5020 if free)."),
    ] = None,
    log_level: LogOpt = "warning",
) -> None:
    """Start a simulated factory and the platform on it, in one process, until Ctrl-C."""
    from omp.api import ApiServer, create_app

    configure_logging(log_level)
    backfill_us = _duration(backfill, "--backfill")
    sample_us = _duration(history_sample, "--history-sample")
    plan = plan_demo(
        machines=machines,
        seed=seed,
        broker_port=broker_port,
        opcua_port=opcua_port,
        modbus_port=modbus_port,
    )
    # The demo runs on the embedded defaults only: an omp.toml or OMP_* environment meant for a
    # real plant (a PostgreSQL historian, say) must never receive simulated data.
    settings = Settings(
        data_dir=data_dir,
        api_port=DEFAULT_API_PORT if api_port is None else api_port,
        mqtt_url=plan.endpoints.mqtt_url,
    )
    refuse_second_instance(settings)
    demo_run = assemble_demo(
        plan,
        settings,
        backfill=backfill_us,
        history_sample=sample_us,
        speed=speed,
        report=_progress,
    )
    platform = demo_run.platform
    app = create_app(platform, host=settings.api_host)
    api = ApiServer(app, host=settings.api_host, port=settings.api_port)
    platform.add_service(api)
    with stop_signals() as stop:
        # Ctrl-C during the backfill (which runs inside start) ends it early.
        def cancel_on_stop() -> None:
            stop.wait()
            demo_run.cancel()

        threading.Thread(target=cancel_on_stop, name="omp-demo-cancel", daemon=True).start()
        with platform:
            if backfill_us:
                err.print(
                    f"backfilled {format_duration(backfill_us)} of history: "
                    f"{demo_run.history_points:,} points, {demo_run.history_events:,} events "
                    f"in {demo_run.backfill_seconds:.1f} s",
                    highlight=False,
                )
            serve_until_stopped(
                platform,
                settings,
                model_file=demo_run.model_file,
                api_url=api.url,
                banner=_demo_banner(plan, demo_run.model_file, api.url, demo_run.truth_file),
                stop=stop,
            )
    err.print("stopped", highlight=False)


def _progress(text: str) -> None:
    err.print(text, highlight=False)


def _served(plan: DemoPlan) -> str:
    counts: dict[str, int] = {}
    for machine in plan.plant.machines:
        counts[machine.served.value] = counts.get(machine.served.value, 0) + 1
    return ", ".join(f"{n} over {p}" for p, n in sorted(counts.items()))


def _endpoints(plan: DemoPlan, *, uns: bool) -> str:
    e = plan.endpoints
    topics = "Sparkplug B under spBv1.0/, JSON under acme/" + (
        ", the UNS under omp/v1/" if uns else ""
    )
    return (
        f"  OPC UA     opc.tcp://{e.host}:{e.opcua_port}/omp/sim\n"
        f"  Modbus TCP {e.host}:{e.modbus_port}+ (one gateway per line, unit id per machine)\n"
        f"  MQTT       {e.mqtt_url} ({topics})\n"
    )


def _demo_banner(plan: DemoPlan, model_file: Path, api_url: str, truth_file: Path) -> str:
    notes = "".join(f"  note       {n}\n" for n in plan.notes)
    return (
        f"omp demo running: {len(plan.plant.machines)} simulated machines ({_served(plan)}), "
        f"seed {plan.seed}\n"
        f"  API        {api_url}  (health: {api_url}/health, signals: {api_url}/signals)\n"
        f"{_endpoints(plan, uns=True)}"
        f"  model      {model_file}\n"
        f"  truth      {truth_file}\n"
        f"{notes}"
        "Ctrl-C stops."
    )


@guarded
def sim(
    machines: MachinesOpt = 26,
    seed: SeedOpt = 1,
    speed: SpeedOpt = 1.0,
    host: Annotated[str, typer.Option("--host", help="Address the servers listen on.")] = (
        "127.0.0.1"
    ),
    opcua_port: Annotated[int, typer.Option("--opcua-port", help="OPC UA server port.")] = 4840,
    modbus_port: Annotated[
        int, typer.Option("--modbus-port", help="First Modbus gateway port (one per line).")
    ] = 5020,
    mqtt: Annotated[
        str, typer.Option("--mqtt", help="The MQTT broker to publish Sparkplug B and JSON to.")
    ] = "mqtt://127.0.0.1:1883",
    write_model: Annotated[
        Path | None,
        typer.Option("--write-model", help="Write the factory model that binds the simulator."),
    ] = None,
    model_only: Annotated[
        bool, typer.Option("--model-only", help="Write the model (--write-model) and exit.")
    ] = False,
    truth: Annotated[
        Path | None, typer.Option("--truth", help="Write the ground truth to this file.")
    ] = None,
    duration: Annotated[
        str | None, typer.Option("--duration", help="Stop after this long (default: Ctrl-C).")
    ] = None,
    log_level: LogOpt = "warning",
) -> None:
    """Run the simulated plant alone against these endpoints, until Ctrl-C or --duration."""
    configure_logging(log_level)
    if model_only and write_model is None:
        raise fail("--model-only needs --write-model FILE")
    run_for = _duration(duration, "--duration") if duration is not None else None
    plan = plan_demo(
        machines=machines,
        seed=seed,
        host=host,
        opcua_port=opcua_port,
        modbus_port=modbus_port,
        mqtt_url=mqtt,
    )
    with stop_signals() as stop:
        run_simulator(
            plan,
            speed=speed,
            model_file=write_model,
            model_only=model_only,
            truth_file=truth,
            stop=stop,
            run_for=run_for,
            clock=system_clock,
            report=_progress,
            banner=lambda: _sim_banner(plan, write_model, truth),
        )


def _sim_banner(plan: DemoPlan, model_file: Path | None, truth_file: Path | None) -> str:
    return (
        f"omp sim running: {len(plan.plant.machines)} simulated machines ({_served(plan)}), "
        f"seed {plan.seed}\n"
        f"{_endpoints(plan, uns=False)}"
        + (f"  model      {model_file}\n" if model_file else "")
        + (f"  truth      {truth_file}\n" if truth_file else "")
        + "Ctrl-C stops."
    )

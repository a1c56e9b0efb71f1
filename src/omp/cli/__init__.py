"""The ``omp`` command (Typer + Rich). See docs/cli.md.

Exit codes: 0 success, 1 the command failed (the message names the file,
row, path or URL at fault), 2 wrong usage, 3 an import landed its good rows
but rejected some.
"""

from __future__ import annotations

from typing import Annotated

import typer

import omp
from omp.cli import _output, check, demo, discover, importing, query, run, signals

app = typer.Typer(
    name="omp",
    help="Open Manufacturing Platform: connect, standardise, collect and analyse shop-floor data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(wanted: bool) -> None:
    if wanted:
        _output.out.print(f"omp {omp.__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _global_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Open Manufacturing Platform: connect, standardise, collect and analyse shop-floor data."""


app.command("check")(check.check)
app.command("signals")(signals.signals)
app.command("run")(run.run)
app.command("demo")(demo.demo)
app.command("sim")(demo.sim)
app.command("query")(query.query)
app.command("export")(query.export)
app.command("import")(importing.import_)
app.add_typer(discover.app, name="discover")


def main() -> None:
    """The console script entry point."""
    try:
        app()
    except KeyboardInterrupt:  # Ctrl-C outside `omp run`'s own handling, e.g. while starting
        _output.err.print("interrupted")
        raise SystemExit(130) from None

"""``omp check factory.yaml``: every problem at once, or a short summary of the model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from omp.cli._output import err, fail, guarded, out
from omp.model import Registry, check_model, compile_model, load_model
from omp.runtime.connectors import check_options
from omp.runtime.ids import CountingIds


def _summary(model_file: Path, registry: Registry) -> Table:
    model = registry.model
    lines = sum(len(area.lines) for site in model.sites.values() for area in site.areas.values())
    table = Table(title=f"{model_file}: valid", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("enterprise", model.enterprise)
    table.add_row("sites", str(len(model.sites)))
    table.add_row("lines", str(lines))
    table.add_row("equipment", str(len(registry.equipment)))
    table.add_row("equipment types", str(len(model.equipment_types)))
    table.add_row("signals", str(len(registry)))
    table.add_row("connectors", str(len(model.connectors)))
    table.add_row("model version", registry.version)
    return table


@guarded
def check(
    model_file: Annotated[Path, typer.Argument(help="The factory model (factory.yaml).")],
) -> None:
    """Validate a model file: print every problem (file:line: path: message), or a summary."""
    problems = check_model(model_file, check_options=check_options)
    if problems:
        for problem in problems:
            out.print(str(problem), highlight=False, markup=False)
        count = len(problems)
        raise fail(f"{count} problem{'s' if count != 1 else ''} in {model_file}")
    registry = compile_model(load_model(model_file, check_options=check_options), ids=CountingIds())
    out.print(_summary(model_file, registry))
    err.print(f"{model_file}: ok", highlight=False)

"""``omp signals [PATTERN]``: the signals of the model, to find paths for queries."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from omp.cli._output import guarded, out
from omp.cli.options import ConfigOpt, DataDirOpt, ModelOpt, settings_from
from omp.model import compile_model, load_model
from omp.runtime.ids import CountingIds
from omp.runtime.instance import recorded_model


@guarded
def signals(
    pattern: Annotated[str, typer.Argument(help="A path or glob; all signals by default.")] = "**",
    model: ModelOpt = None,
    data_dir: DataDirOpt = None,
    config: ConfigOpt = None,
) -> None:
    """List the signals a path or glob matches, with kind, datatype and unit."""
    model_file: Path
    if model is not None:
        model_file = model
    else:
        settings = settings_from(config=config, data_dir=data_dir, historian=None)
        model_file = recorded_model(settings.data_dir)
    # Only the model is read: ids do not matter for a listing, so no database is opened.
    registry = compile_model(load_model(model_file), ids=CountingIds())
    table = Table("path", "kind", "datatype", "unit")
    for signal in registry.match(pattern):
        table.add_row(signal.path, signal.kind.value, signal.datatype.value, signal.unit or "")
    out.print(table)

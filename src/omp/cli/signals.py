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
    rows = [(s.path, s.kind.value, s.datatype.value, s.unit or "") for s in registry.match(pattern)]
    if not out.is_terminal:  # piped: tab-separated lines, whole paths, easy to cut and grep
        for row in rows:
            out.print("\t".join(row), markup=False, highlight=False)
        return
    table = Table("path", "kind", "datatype", "unit")
    table.columns[0].overflow = "fold"
    for row in rows:
        table.add_row(*row)
    out.print(table)

"""Options shared by several commands, and turning them into ``Settings``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from omp.runtime.settings import Settings, load_settings

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="Settings file (default: $OMP_CONFIG, else ./omp.toml)."),
]
DataDirOpt = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory (default: ./omp-data or $OMP_DATA_DIR)."),
]
HistorianOpt = Annotated[
    str | None,
    typer.Option(
        "--historian",
        help="postgresql://user@host:port/db, or leave out for <data-dir>/historian.duckdb.",
    ),
]
ModelOpt = Annotated[
    Path | None,
    typer.Option("--model", help="Model file (default: the one `omp run` last used here)."),
]
ApiOpt = Annotated[
    str | None,
    typer.Option("--api", help="Read through this running instance (http://127.0.0.1:PORT)."),
]


def settings_from(
    *, config: Path | None, data_dir: Path | None, historian: str | None, **more: object
) -> Settings:
    """Settings from the file and environment, overridden by the flags that were given."""
    overrides: dict[str, object] = {"data_dir": data_dir, "historian_url": historian, **more}
    return load_settings(config_file=config, overrides=overrides)

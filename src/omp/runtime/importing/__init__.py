"""``omp import``: bulk history from CSV or Parquet, through ingest, in chunks."""

from omp.runtime.importing.importer import (
    BadRow,
    ImportInterruptedError,
    ImportReport,
    SignalTable,
    import_source,
)
from omp.runtime.importing.source import ImportFileError, ImportSource, Layout, open_source

__all__ = [
    "BadRow",
    "ImportFileError",
    "ImportInterruptedError",
    "ImportReport",
    "ImportSource",
    "Layout",
    "SignalTable",
    "import_source",
    "open_source",
]

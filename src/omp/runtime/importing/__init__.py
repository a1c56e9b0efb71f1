"""``omp import``: bulk history from CSV or Parquet, through ingest, in chunks."""

from omp.runtime.importing.importer import (
    BadRow,
    ImportInterruptedError,
    ImportReport,
    RejectsWriter,
    SignalTable,
    import_source,
    rejects_schema,
)
from omp.runtime.importing.source import ImportFileError, ImportSource, Layout, open_source

__all__ = [
    "BadRow",
    "ImportFileError",
    "ImportInterruptedError",
    "ImportReport",
    "ImportSource",
    "Layout",
    "RejectsWriter",
    "SignalTable",
    "import_source",
    "open_source",
    "rejects_schema",
]

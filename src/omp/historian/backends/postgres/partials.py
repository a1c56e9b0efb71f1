"""numpy partials (``omp.historian.numpy_partials``) as binary COPY / array columns.

Two partials of one signal whose points do not interleave merge exactly
(``rollups.APPEND_MERGE`` does it in SQL), which is what lets the writer
fold a new batch into a rollup row without rereading raw points.
"""

from __future__ import annotations

from omp.historian.backends.postgres.copy_binary import Column, PgType
from omp.historian.numpy_partials import COLUMNS, Columns
from omp.historian.partials import INTEGER_FIELDS


def _pg_type(name: str) -> PgType:
    if name == "signal_id":
        return PgType.INT4
    if name == "bucket" or name in INTEGER_FIELDS:
        return PgType.INT8
    return PgType.FLOAT8


PG_TYPES: tuple[PgType, ...] = tuple(_pg_type(name) for name in COLUMNS)
"""Wire types of the rollup columns, in table order."""


def copy_columns(partials: Columns) -> list[Column]:
    """The columns in rollup table order, typed for the binary COPY encoder."""
    return [(t, partials[name]) for t, name in zip(PG_TYPES, COLUMNS, strict=True)]


def row_count(partials: Columns) -> int:
    return len(partials["signal_id"])

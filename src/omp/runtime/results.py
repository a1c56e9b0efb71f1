"""Query results as users see them: signal paths attached, times as UTC timestamps.

The historian answers with signal ids and int64 microseconds; everything
outside the runtime speaks paths and RFC 3339. These functions convert whole
Arrow tables at once (no object per row) and define the public result schemas:

* raw and latest: ``path`` string, ``ts`` timestamp[us, UTC], ``value``
  float64, ``text`` string, ``quality`` string (good, uncertain, bad);
* aggregates: ``path``, ``bucket`` timestamp[us, UTC], then one float64
  column per aggregate, named by it;
* time in state: ``path``, ``bucket``, ``state`` int64, ``label`` string (from
  the model's state names), ``seconds`` float64.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from omp.core.quality import Quality
from omp.historian.types import Agg

UTC_TS = pa.timestamp("us", tz="UTC")
_QUALITY_LABELS = pa.array([q.label for q in sorted(Quality)], type=pa.string())

RAW_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("ts", UTC_TS),
        ("value", pa.float64()),
        ("text", pa.string()),
        ("quality", pa.string()),
    ]
)


def aggregate_schema(aggs: Sequence[Agg]) -> pa.Schema:
    """The schema of an aggregate result with these aggregates."""
    fields = [pa.field("path", pa.string()), pa.field("bucket", UTC_TS)]
    fields += [pa.field(agg.value, pa.float64()) for agg in aggs]
    return pa.schema(fields)


def _paths_column(signal_ids: pa.ChunkedArray | pa.Array, paths: Mapping[int, str]) -> pa.Array:
    ids = list(paths)
    position = pc.index_in(signal_ids, value_set=pa.array(ids, type=pa.int32()))
    return pa.array(list(paths.values()), type=pa.string()).take(position)


def _quality_column(quality: pa.ChunkedArray | pa.Array) -> pa.Array:
    return _QUALITY_LABELS.take(pc.cast(quality, pa.int32()))


def _as_utc(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    return pc.cast(column, pa.int64()).cast(UTC_TS)


def present_raw(table: pa.Table, paths: Mapping[int, str]) -> pa.Table:
    """A historian raw/latest table (``signal_id, ts, value, text, quality``) with paths."""
    if table.num_rows == 0:
        return RAW_SCHEMA.empty_table()
    text = table.column("text") if "text" in table.column_names else pa.nulls(table.num_rows)
    return pa.table(
        [
            _paths_column(table.column("signal_id"), paths),
            _as_utc(table.column("ts")),
            pc.cast(table.column("value"), pa.float64()),
            pc.cast(text, pa.string()),
            _quality_column(table.column("quality")),
        ],
        schema=RAW_SCHEMA,
    )


def present_aggregate(table: pa.Table, paths: Mapping[int, str], aggs: Sequence[Agg]) -> pa.Table:
    """A historian aggregate table (``signal_id, bucket, <aggs>``) with paths."""
    schema = aggregate_schema(aggs)
    if table.num_rows == 0:
        return schema.empty_table()
    columns = [
        _paths_column(table.column("signal_id"), paths),
        _as_utc(table.column("bucket")),
    ]
    columns += [pc.cast(table.column(agg.value), pa.float64()) for agg in aggs]
    return pa.table(columns, schema=schema)


STATE_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("bucket", UTC_TS),
        ("state", pa.int64()),
        ("label", pa.string()),
        ("seconds", pa.float64()),
    ]
)


def present_states(
    table: pa.Table, paths: Mapping[int, str], labels: Mapping[tuple[int, int], str]
) -> pa.Table:
    """A historian state-durations table with paths, state labels and seconds.

    ``labels`` maps ``(signal_id, state code)`` to the model's name of the
    state; codes the model does not name get no label.
    """
    if table.num_rows == 0:
        return STATE_SCHEMA.empty_table()
    state = pc.cast(table.column("state"), pa.int64())
    # few distinct (signal, state) pairs: label them through a small lookup table
    keys = pc.binary_join_element_wise(
        pc.cast(table.column("signal_id"), pa.string()), pc.cast(state, pa.string()), ":"
    )
    known = pa.array([f"{sid}:{code}" for sid, code in labels], type=pa.string())
    names = pa.array(list(labels.values()), type=pa.string())
    seconds = pc.divide(pc.cast(table.column("duration"), pa.float64()), 1_000_000.0)
    return pa.table(
        [
            _paths_column(table.column("signal_id"), paths),
            _as_utc(table.column("bucket")),
            state,
            names.take(pc.index_in(keys, value_set=known)),
            seconds,
        ],
        schema=STATE_SCHEMA,
    )

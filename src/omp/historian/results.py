"""Arrow schemas of the read results every backend returns (see ``omp.historian.backend``)."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from omp.historian.types import Agg

RAW_SCHEMA = pa.schema(
    [
        ("signal_id", pa.int32()),
        ("ts", pa.int64()),
        ("value", pa.float64()),
        ("text", pa.string()),
        ("quality", pa.uint8()),
    ]
)
"""Raw reads and ``latest``: value is null for text points, text null for numeric ones."""

STATE_SCHEMA = pa.schema(
    [
        ("signal_id", pa.int32()),
        ("bucket", pa.int64()),
        ("state", pa.float64()),
        ("duration", pa.int64()),
    ]
)
"""``state_durations``: microseconds per ``(signal_id, bucket, state)``."""


def aggregate_schema(aggs: Sequence[Agg]) -> pa.Schema:
    """``aggregate``: ``signal_id``, ``bucket``, then one float64 column per aggregate."""
    return pa.schema(
        [("signal_id", pa.int32()), ("bucket", pa.int64())]
        + [(agg.value, pa.float64()) for agg in aggs]
    )

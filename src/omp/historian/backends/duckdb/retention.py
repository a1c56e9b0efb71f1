"""Deleting old data per tier and signal."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from omp.core.time import Micros
from omp.historian.backends.duckdb.aggregate import ROLLUP_TABLES, STATE_TABLES, id_list
from omp.historian.types import Tier


def delete_before(
    con: duckdb.DuckDBPyConnection,
    tier: Tier,
    cutoffs: Sequence[tuple[Micros, Sequence[int]]],
) -> int:
    """Delete ``tier`` rows older than each cutoff (inside the caller's transaction).

    Raw: points and text with ``ts < cutoff``. Rollups: buckets that end at
    or before the cutoff, so a bucket is never cut in half; the tier's state
    rollups (decision 0017) go with them.
    """
    deleted = 0
    for cutoff, signal_ids in cutoffs:
        if not signal_ids:
            continue
        ids = id_list(signal_ids)
        if tier is Tier.RAW:
            statements = [
                f"DELETE FROM {table} WHERE signal_id IN ({ids}) AND ts < {int(cutoff)}"
                for table in ("points", "text_points")
            ]
        else:
            statements = [
                f"DELETE FROM {table} WHERE signal_id IN ({ids}) "
                f"AND bucket + {tier.width} <= {int(cutoff)}"
                for table in (ROLLUP_TABLES[tier], STATE_TABLES[tier])
            ]
        for statement in statements:
            row = con.execute(statement).fetchone()
            deleted += int(row[0]) if row else 0
    return deleted

"""Time in each state per bucket, for state signals (step semantics, see ``types``)."""

from __future__ import annotations

from omp.historian.backends.duckdb.aggregate import id_list, raw_source
from omp.historian.backends.duckdb.partials import bucket_of
from omp.historian.types import CARRY_LIMIT, StateQuery


def state_durations_sql(query: StateQuery) -> str:
    """Durations per ``(signal_id, bucket, state)`` in the layout of ``state_durations``.

    Each point opens an interval that lasts until the next point (or until
    ``min(end, now)``); intervals are clipped to each bucket that holds a point
    in range and to ``[start, min(end, now))``. An interval opened before a
    bucket counts there only if it opened within ``CARRY_LIMIT`` of the
    bucket's clipped start.
    """
    ids = id_list(query.signal_ids)
    horizon = min(query.end, query.now)
    every = int(query.every)
    intervals = (
        "SELECT signal_id, ts, value AS state, "
        f"coalesce(lead(ts) OVER (PARTITION BY signal_id ORDER BY ts), {horizon}) AS until "
        f"FROM (SELECT signal_id, max(ts) AS ts, arg_max(value, ts) AS value FROM points "
        f"WHERE signal_id IN ({ids}) AND ts < {int(query.start)} "
        f"AND ts >= {int(query.start) - CARRY_LIMIT} GROUP BY signal_id "
        f"UNION ALL {raw_source(ids, query.start, query.end)}) pts"
    )
    buckets = (
        f"SELECT DISTINCT signal_id, {bucket_of('ts', every)} AS bucket, "
        f"greatest({bucket_of('ts', every)}, {int(query.start)}) AS es, "
        f"least({bucket_of('ts', every)} + {every}, {horizon}) AS ee "
        f"FROM ({raw_source(ids, query.start, query.end)}) src"
    )
    return (
        "SELECT b.signal_id::INTEGER AS signal_id, b.bucket::BIGINT AS bucket, "
        "i.state::DOUBLE AS state, "
        "sum(least(i.until, b.ee) - greatest(i.ts, b.es))::BIGINT AS duration "
        f"FROM ({buckets}) b JOIN ({intervals}) i ON i.signal_id = b.signal_id "
        f"AND b.ee > b.es AND i.ts < b.ee AND i.until > b.es AND i.ts >= b.es - {CARRY_LIMIT} "
        "GROUP BY ALL ORDER BY signal_id, bucket, state"
    )

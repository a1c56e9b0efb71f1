"""Time in each state per bucket, for state signals (step semantics, see ``types``)."""

from __future__ import annotations

from omp.historian.backends.duckdb.aggregate import carry_source, id_list, raw_source
from omp.historian.backends.duckdb.partials import bucket_of, expand
from omp.historian.state_sql import state_durations_sql as portable_sql
from omp.historian.types import StateQuery


def state_durations_sql(query: StateQuery) -> str:
    """Durations per ``(signal_id, bucket, state)`` in the layout of ``state_durations``.

    Every bucket of ``[start, min(end, now))`` in which a state is in force
    gets its durations, also buckets without a point (``omp.historian.state_sql``).
    """
    ids = id_list(query.signal_ids)
    points = (
        "SELECT signal_id, last_ts AS ts, last_v AS value"
        f" FROM ({carry_source(ids, query.start)}) c"
        f" UNION ALL {raw_source(ids, query.start, query.end)}"
    )
    durations = portable_sql(
        points, query, bucket_of=lambda column: bucket_of(column, query.every), expand=expand
    )
    return (
        "SELECT signal_id::INTEGER AS signal_id, bucket::BIGINT AS bucket,"
        f" state::DOUBLE AS state, duration::BIGINT AS duration FROM ({durations}) d"
        " ORDER BY signal_id, bucket, state"
    )

"""Declared state signals and their per-state rollups (decision 0017).

Only signals declared with ``track`` get state rollups: for a continuous
measurement they would hold about one row per point. Both tiers are kept in
the write transaction, after the ordinary rollups: each ``(signal, minute)``
a flush touches is recomputed from raw (a minute holds few points), then
each touched hour from its minutes' state rows and ordinary 1-minute rollups,
so late data and replays stay exact.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import numpy.typing as npt
import psycopg

from omp.historian.backends.postgres.algebra import floor_int
from omp.historian.backends.postgres.rollups import REDO, redo_list
from omp.historian.backends.postgres.sqltext import Names, id_list, query, ts_literal, us
from omp.historian.state_rollups import states_from_finer, states_from_points
from omp.historian.types import Tier

_MINUTE = Tier.MINUTE.width
_HOUR = Tier.HOUR.width
Conn = psycopg.Connection[tuple[object, ...]]


def load(conn: Conn, names: Names) -> frozenset[int]:
    """The signals declared as state signals."""
    rows = conn.execute(query(f"SELECT signal_id FROM {names.state_signals}")).fetchall()
    return frozenset(int(str(r[0])) for r in rows)


def track(conn: Conn, names: Names, new: Sequence[int]) -> None:
    """Declare ``new`` and build their state rollups from raw (caller's transaction).

    Exact wherever raw points cover whole hours; hours whose raw points
    retention already deleted get none.
    """
    ids = id_list(new)
    conn.execute(
        query(
            f"INSERT INTO {names.state_signals} SELECT unnest(ARRAY[{ids}]::int4[])"
            " ON CONFLICT DO NOTHING"
        )
    )
    for table in names.states.values():
        conn.execute(query(f"DELETE FROM {table} WHERE signal_id IN ({ids})"))
    raw = (
        f"SELECT signal_id, {us('ts')} AS ts, value FROM {names.points} WHERE signal_id IN ({ids})"
    )
    minute = states_from_points(raw, bucket_of=lambda c: floor_int(c, _MINUTE))
    conn.execute(query(f"INSERT INTO {names.states['1m']} {minute}"))
    of_ids = f"WHERE signal_id IN ({ids})"
    hour = states_from_finer(
        f"SELECT * FROM {names.states['1m']} {of_ids}",
        f"SELECT signal_id, bucket, first_ts, last_ts, last_v FROM {names.rollup['1m']} {of_ids}",
        bucket_of=lambda c: floor_int(c, _HOUR),
    )
    conn.execute(query(f"INSERT INTO {names.states['1h']} {hour}"))


def refresh(
    conn: Conn,
    names: Names,
    signal_id: npt.NDArray[np.int32],
    ts: npt.NDArray[np.int64],
    tracked: Collection[int],
) -> None:
    """Recompute the state rollups of every bucket of a tracked signal the points touch."""
    if not tracked or not len(ts):
        return
    mine = np.isin(signal_id, np.fromiter(tracked, dtype=np.int32))
    if mine.any():
        _recompute(conn, names, signal_id[mine], ts[mine])


def _recompute(
    conn: Conn, names: Names, signal_id: npt.NDArray[np.int32], ts: npt.NDArray[np.int64]
) -> None:
    ids = id_list(np.unique(signal_id).tolist())
    lo, hi = int(ts.min()), int(ts.max())
    minute_lo, minute_hi = lo - lo % _MINUTE, hi - hi % _MINUTE + _MINUTE
    redo_list(conn, signal_id, ts - np.mod(ts, _MINUTE))
    raw = (
        f"SELECT signal_id, {us('ts')} AS ts, value FROM {names.points} WHERE signal_id IN ({ids})"
        f" AND ts >= {ts_literal(minute_lo)} AND ts < {ts_literal(minute_hi)}"
    )
    minute = states_from_points(raw, bucket_of=lambda c: floor_int(c, _MINUTE))
    _overwrite(conn, names.states["1m"], minute)
    redo_list(conn, signal_id, ts - np.mod(ts, _HOUR))

    def in_hours(table: str, columns: str) -> str:
        return (
            f"SELECT {columns} FROM {table} r JOIN {REDO} k ON r.signal_id = k.signal_id"
            f" AND r.bucket >= k.bucket AND r.bucket < k.bucket + {_HOUR}"
        )

    hour = states_from_finer(
        in_hours(names.states["1m"], "r.signal_id, r.bucket, r.state, r.duration"),
        in_hours(names.rollup["1m"], "r.signal_id, r.bucket, r.first_ts, r.last_ts, r.last_v"),
        bucket_of=lambda c: floor_int(c, _HOUR),
    )
    _overwrite(conn, names.states["1h"], hour)
    conn.execute(query(f"TRUNCATE {REDO}"))


def _overwrite(conn: Conn, table: str, select: str) -> None:
    """Replace the state rows of the buckets in the redo list by ``select``'s rows for them."""
    conn.execute(
        query(
            f"DELETE FROM {table} s USING {REDO} k"
            " WHERE s.signal_id = k.signal_id AND s.bucket = k.bucket"
        )
    )
    conn.execute(
        query(
            f"INSERT INTO {table} (signal_id, bucket, state, duration)"
            f" SELECT signal_id, bucket, state, duration FROM ({select}) x"
            f" WHERE (signal_id, bucket) IN (SELECT signal_id, bucket FROM {REDO})"
        )
    )

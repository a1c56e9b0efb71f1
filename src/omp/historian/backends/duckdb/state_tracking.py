"""Declared state signals and their per-state rollups (decision 0017).

Only signals declared with ``track`` get state rollups: for a continuous
measurement they would hold about one row per point. Both tiers are kept in
the write transaction: each ``(signal, minute)`` a flush touches is
recomputed from raw (a minute holds few points), then each touched hour from
its minutes' state rows and ordinary 1-minute rollups (which ``rollups``
has already brought up to date), so late data and replays stay exact.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import duckdb
import numpy as np
import numpy.typing as npt

from omp.historian.backends.duckdb.partials import bucket_of
from omp.historian.backends.duckdb.rollups import replace, touched
from omp.historian.backends.duckdb.write import Inserted
from omp.historian.state_rollups import states_from_finer, states_from_points
from omp.historian.types import Tier

_MINUTE = Tier.MINUTE.width
_HOUR = Tier.HOUR.width


def load(con: duckdb.DuckDBPyConnection) -> frozenset[int]:
    """The signals declared as state signals."""
    return frozenset(
        int(r[0]) for r in con.execute("SELECT signal_id FROM state_signals").fetchall()
    )


def track(con: duckdb.DuckDBPyConnection, new: Sequence[int]) -> None:
    """Declare ``new`` (not yet tracked) and build their state rollups from raw.

    Inside the caller's transaction. Exact wherever raw points cover whole
    hours; hours whose raw points retention already deleted get none.
    """
    ids = ", ".join(str(int(i)) for i in new)
    con.executemany("INSERT INTO state_signals VALUES (?)", [[int(i)] for i in new])
    for table in ("state_1m", "state_1h"):
        con.execute(f"DELETE FROM {table} WHERE signal_id IN ({ids})")
    raw = f"SELECT signal_id, ts, value FROM points WHERE signal_id IN ({ids})"
    minute = states_from_points(raw, bucket_of=lambda c: bucket_of(c, _MINUTE))
    con.execute(f"INSERT INTO state_1m {minute}")
    of_ids = f"WHERE signal_id IN ({ids})"
    hour = states_from_finer(
        f"SELECT * FROM state_1m {of_ids}",
        f"SELECT signal_id, bucket, first_ts, last_ts, last_v FROM rollup_1m {of_ids}",
        bucket_of=lambda c: bucket_of(c, _HOUR),
    )
    con.execute(f"INSERT INTO state_1h {hour}")


def refresh(con: duckdb.DuckDBPyConnection, stored: Inserted, tracked: Collection[int]) -> None:
    """Recompute the state rollups of every bucket of a tracked signal that ``stored`` touched."""
    if not tracked or not len(stored):
        return
    signal_id = np.concatenate([stored.appended.signal_id, stored.late.signal_id])
    ts = np.concatenate([stored.appended.ts, stored.late.ts])
    mine = np.isin(signal_id, np.fromiter(tracked, dtype=np.int32))
    if mine.any():
        _recompute(con, signal_id[mine], ts[mine])


def _recompute(
    con: duckdb.DuckDBPyConnection, signal_id: npt.NDArray[np.int32], ts: npt.NDArray[np.int64]
) -> None:
    ids = ", ".join(str(int(i)) for i in np.unique(signal_id))
    lo, hi = int(ts.min()), int(ts.max())
    minute_lo, minute_hi = lo - lo % _MINUTE, hi - hi % _MINUTE + _MINUTE
    hour_lo, hour_hi = lo - lo % _HOUR, hi - hi % _HOUR + _HOUR
    window = f"signal_id IN ({ids}) AND bucket >= {{lo}} AND bucket < {{hi}}"
    raw = (
        "SELECT p.signal_id, p.ts, p.value FROM points p SEMI JOIN _omp_touched t "
        f"ON p.signal_id = t.signal_id AND p.ts - p.ts % {_MINUTE} = t.bucket "
        f"WHERE p.signal_id IN ({ids}) AND p.ts >= {minute_lo} AND p.ts < {minute_hi}"
    )
    minute = states_from_points(raw, bucket_of=lambda c: bucket_of(c, _MINUTE))
    replace(
        con,
        "state_1m",
        touched(signal_id, ts, _MINUTE),
        window.format(lo=minute_lo, hi=minute_hi),
        minute,
    )

    def in_hours(table: str, columns: str) -> str:
        return (
            f"SELECT {columns} FROM {table} r SEMI JOIN _omp_touched t "
            f"ON r.signal_id = t.signal_id AND r.bucket - r.bucket % {_HOUR} = t.bucket "
            f"WHERE r.signal_id IN ({ids}) AND r.bucket >= {hour_lo} AND r.bucket < {hour_hi}"
        )

    hour = states_from_finer(
        in_hours("state_1m", "r.signal_id, r.bucket, r.state, r.duration"),
        in_hours("rollup_1m", "r.signal_id, r.bucket, r.first_ts, r.last_ts, r.last_v"),
        bucket_of=lambda c: bucket_of(c, _HOUR),
    )
    replace(
        con, "state_1h", touched(signal_id, ts, _HOUR), window.format(lo=hour_lo, hi=hour_hi), hour
    )

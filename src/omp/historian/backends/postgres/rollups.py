"""Keeping ``rollup_1m`` and ``rollup_1h`` exact inside the writer's transaction.

Points newer than their signal's high-water mark (see ``writer``) come after
every stored point of that signal, so their partials, computed with numpy,
fold into the stored rows exactly, with no raw point read back: buckets
after the mark are new rows (a binary COPY, ``copy_fresh``), the one bucket
per signal that may already exist is merged by an upsert from array
parameters (``fold_cte``).

Late points (a replay, late data, a history import) may land between stored
points: the buckets they touch are recomputed, minutes from raw points (one
scan over the late time range), then hours from minutes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import psycopg

from omp.historian.backends.postgres.algebra import merge_partials, raw_partials
from omp.historian.backends.postgres.arrays import PgArray, array
from omp.historian.backends.postgres.copy_binary import PgType, encode_copy
from omp.historian.backends.postgres.partials import PG_TYPES, copy_columns, row_count
from omp.historian.backends.postgres.sqltext import Names, id_list, query, ts_literal
from omp.historian.numpy_partials import COLUMNS, Columns, run_starts
from omp.historian.partial_sql import step
from omp.historian.partials import FIELDS
from omp.historian.types import Tier

_COLUMNS = ", ".join(COLUMNS)
_TYPES: tuple[str, ...] = tuple(t.name.lower() for t in PG_TYPES)
"""SQL element types of the rollup columns, in table order."""
REDO = "omp_redo"


def create_staging(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """The session-local redo list of the late path, emptied at every commit."""
    conn.execute(
        query(
            f"CREATE TEMP TABLE IF NOT EXISTS {REDO}"
            " (signal_id int4 NOT NULL, bucket int8 NOT NULL) ON COMMIT DELETE ROWS"
        )
    )


def fold_cte(names: Names, tier: Tier) -> str:
    """An upsert folding partials given as 13 array parameters (table column order).

    Meant as a data-modifying CTE of the writer's one statement per flush.
    The partials' points must all follow the stored ones of their signal.
    """
    unnest = ", ".join(f"%s::{t}[]" for t in _TYPES)
    return _append_merge(names.rollup[tier.value], f"SELECT * FROM unnest({unnest})")


def copy_fresh(
    conn: psycopg.Connection[tuple[object, ...]], names: Names, tier: Tier, partials: Columns
) -> None:
    """Copy partials of buckets that hold no stored point yet in as new rows."""
    if not row_count(partials):
        return
    with conn.cursor().copy(
        query(f"COPY {names.rollup[tier.value]} ({_COLUMNS}) FROM STDIN (FORMAT BINARY)")
    ) as copy:
        copy.write(encode_copy(copy_columns(partials)))


def fold_params(partials: Columns) -> list[PgArray]:
    """The 13 array parameters of ``fold_cte`` for ``partials``."""
    return [array(pg_type, values) for pg_type, values in copy_columns(partials)]


def recompute_late(
    conn: psycopg.Connection[tuple[object, ...]],
    names: Names,
    signal_id: npt.NDArray[np.int32],
    ts: npt.NDArray[np.int64],
) -> None:
    """Rebuild the minute and hour buckets that late points touch."""
    minute, hour = Tier.MINUTE.width, Tier.HOUR.width
    redo_list(conn, signal_id, ts - np.mod(ts, minute))
    ids = id_list(np.unique(signal_id).tolist())
    lo = int(ts.min()) - int(ts.min()) % minute
    hi = int(ts.max()) - int(ts.max()) % minute + minute
    source = (
        f"SELECT signal_id, ts, value FROM {names.points} WHERE signal_id IN ({ids})"
        f" AND ts >= {ts_literal(lo)} AND ts < {ts_literal(hi)}"
    )
    minutes = (
        f"SELECT m.* FROM ({raw_partials(source, minute, FIELDS)}) m"
        f" WHERE (m.signal_id, m.bucket) IN (SELECT signal_id, bucket FROM {REDO})"
    )
    conn.execute(query(_overwrite(names.rollup["1m"], minutes)))
    conn.execute(query(f"TRUNCATE {REDO}"))
    redo_list(conn, signal_id, ts - np.mod(ts, hour))
    segments = (
        f"SELECT r.signal_id, r.bucket, {', '.join('r.' + f for f in FIELDS)}"
        f" FROM {names.rollup['1m']} r JOIN {REDO} k ON r.signal_id = k.signal_id"
        f" AND r.bucket >= k.bucket AND r.bucket < k.bucket + {hour}"
    )
    conn.execute(query(_overwrite(names.rollup["1h"], merge_partials(segments, hour, FIELDS))))


def redo_list(
    conn: psycopg.Connection[tuple[object, ...]],
    signal_id: npt.NDArray[np.int32],
    bucket: npt.NDArray[np.int64],
) -> None:
    """Replace the redo list with the distinct ``(signal_id, bucket)`` pairs given."""
    order = np.lexsort((bucket, signal_id))
    sid, bkt = signal_id[order], bucket[order]
    keep = run_starts(sid, bkt)
    conn.execute(query(f"TRUNCATE {REDO}"))
    with conn.cursor().copy(
        query(f"COPY {REDO} (signal_id, bucket) FROM STDIN (FORMAT BINARY)")
    ) as copy:
        copy.write(
            encode_copy(
                [
                    (PgType.INT4, sid[keep]),
                    (PgType.INT8, bkt[keep]),
                ]
            )
        )


def _overwrite(table: str, select: str) -> str:
    assignments = ", ".join(f"{f} = EXCLUDED.{f}" for f in FIELDS)
    return (
        f"INSERT INTO {table} ({_COLUMNS}) SELECT {_COLUMNS} FROM ({select}) x"
        f" ON CONFLICT (signal_id, bucket) DO UPDATE SET {assignments}"
    )


def _append_merge(table: str, source: str) -> str:
    """Upsert staged partials whose points all come after the stored row's.

    In ``SET``, ``r.*`` is the stored row before the update, ``EXCLUDED.*`` the
    staged partial; ``m2`` merges by Chan et al.'s parallel formula.
    """
    e = "EXCLUDED"
    return (
        f"INSERT INTO {table} AS r ({_COLUMNS}) {source}"
        " ON CONFLICT (signal_id, bucket) DO UPDATE SET"
        f" n = r.n + {e}.n, s = r.s + {e}.s,"
        f" mn = least(r.mn, {e}.mn), mx = greatest(r.mx, {e}.mx),"
        f" last_ts = {e}.last_ts, last_v = {e}.last_v,"
        f" m2 = r.m2 + {e}.m2 + power({e}.s / {e}.n - r.s / r.n, 2)"
        f" * r.n * {e}.n / (r.n + {e}.n),"
        f" integ = r.integ + {e}.integ + r.last_v * ({e}.first_ts - r.last_ts),"
        f" inc = r.inc + {e}.inc + {step('r.last_v', f'{e}.first_v')}"
    )

"""Keeping ``rollup_1m`` and ``rollup_1h`` exact inside the writer's transaction.

Points newer than their signal's high-water mark (see ``writer``) come after
every stored point of that signal, so their partials, computed with numpy,
fold into the stored rows exactly: one staging COPY and one upsert per tier,
no raw point read back.

Late points (a replay, late data, a history import) may land between stored
points: the buckets they touch are recomputed, minutes from raw points (one
scan over the late time range), then hours from minutes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import psycopg

from omp.historian.backends.postgres.algebra import (
    ALL_FIELDS,
    merge_partials,
    raw_partials,
    step,
)
from omp.historian.backends.postgres.copy_binary import PgType, encode_copy
from omp.historian.backends.postgres.partials import Partials
from omp.historian.backends.postgres.sqltext import Names, id_list, query, ts_literal
from omp.historian.types import Tier

_COLUMNS = ", ".join(("signal_id", "bucket", *ALL_FIELDS))
_STAGE = {Tier.MINUTE: "omp_stage_1m", Tier.HOUR: "omp_stage_1h"}
_REDO = "omp_redo"


def create_staging(conn: psycopg.Connection[tuple[object, ...]], names: Names) -> None:
    """Session-local staging tables, emptied at every commit."""
    for tier, stage_table in _STAGE.items():
        conn.execute(
            query(
                f"CREATE TEMP TABLE IF NOT EXISTS {stage_table}"
                f" (LIKE {names.rollup[tier.value]}) ON COMMIT DELETE ROWS"
            )
        )
    conn.execute(
        query(
            f"CREATE TEMP TABLE IF NOT EXISTS {_REDO}"
            " (signal_id int4 NOT NULL, bucket int8 NOT NULL) ON COMMIT DELETE ROWS"
        )
    )


def stage(conn: psycopg.Connection[tuple[object, ...]], tier: Tier, partials: Partials) -> None:
    """Copy a batch's partials of ``tier`` into its staging table."""
    with conn.cursor().copy(
        query(f"COPY {_STAGE[tier]} ({_COLUMNS}) FROM STDIN (FORMAT BINARY)")
    ) as copy:
        copy.write(encode_copy(partials.copy_columns()))


def fold(conn: psycopg.Connection[tuple[object, ...]], names: Names, tier: Tier) -> None:
    """Fold staged partials, whose points all follow the stored ones, into ``tier``."""
    conn.execute(query(_append_merge(names.rollup[tier.value], _STAGE[tier])))


def recompute_late(
    conn: psycopg.Connection[tuple[object, ...]],
    names: Names,
    signal_id: npt.NDArray[np.int32],
    ts: npt.NDArray[np.int64],
) -> None:
    """Rebuild the minute and hour buckets that late points touch."""
    minute, hour = Tier.MINUTE.width, Tier.HOUR.width
    _redo_list(conn, signal_id, ts - np.mod(ts, minute))
    ids = id_list(np.unique(signal_id).tolist())
    lo = int(ts.min()) - int(ts.min()) % minute
    hi = int(ts.max()) - int(ts.max()) % minute + minute
    source = (
        f"SELECT signal_id, ts, value FROM {names.points} WHERE signal_id IN ({ids})"
        f" AND ts >= {ts_literal(lo)} AND ts < {ts_literal(hi)}"
    )
    minutes = (
        f"SELECT m.* FROM ({raw_partials(source, minute, ALL_FIELDS)}) m"
        f" WHERE (m.signal_id, m.bucket) IN (SELECT signal_id, bucket FROM {_REDO})"
    )
    conn.execute(query(_overwrite(names.rollup["1m"], minutes)))
    conn.execute(query(f"TRUNCATE {_REDO}"))
    _redo_list(conn, signal_id, ts - np.mod(ts, hour))
    segments = (
        f"SELECT r.signal_id, r.bucket, {', '.join('r.' + f for f in ALL_FIELDS)}"
        f" FROM {names.rollup['1m']} r JOIN {_REDO} k ON r.signal_id = k.signal_id"
        f" AND r.bucket >= k.bucket AND r.bucket < k.bucket + {hour}"
    )
    conn.execute(query(_overwrite(names.rollup["1h"], merge_partials(segments, hour, ALL_FIELDS))))


def _redo_list(
    conn: psycopg.Connection[tuple[object, ...]],
    signal_id: npt.NDArray[np.int32],
    bucket: npt.NDArray[np.int64],
) -> None:
    """Replace the redo list with the distinct ``(signal_id, bucket)`` pairs given."""
    order = np.lexsort((bucket, signal_id))
    sid, bkt = signal_id[order], bucket[order]
    keep = np.ones(len(order), dtype=bool)
    keep[1:] = (sid[1:] != sid[:-1]) | (bkt[1:] != bkt[:-1])
    conn.execute(query(f"TRUNCATE {_REDO}"))
    with conn.cursor().copy(
        query(f"COPY {_REDO} (signal_id, bucket) FROM STDIN (FORMAT BINARY)")
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
    assignments = ", ".join(f"{f} = EXCLUDED.{f}" for f in ALL_FIELDS)
    return (
        f"INSERT INTO {table} ({_COLUMNS}) SELECT {_COLUMNS} FROM ({select}) x"
        f" ON CONFLICT (signal_id, bucket) DO UPDATE SET {assignments}"
    )


def _append_merge(table: str, stage_table: str) -> str:
    """Upsert staged partials whose points all come after the stored row's.

    In ``SET``, ``r.*`` is the stored row before the update, ``EXCLUDED.*`` the
    staged partial; ``m2`` merges by Chan et al.'s parallel formula.
    """
    e = "EXCLUDED"
    return (
        f"INSERT INTO {table} AS r ({_COLUMNS}) SELECT {_COLUMNS} FROM {stage_table}"
        " ON CONFLICT (signal_id, bucket) DO UPDATE SET"
        f" n = r.n + {e}.n, s = r.s + {e}.s,"
        f" mn = least(r.mn, {e}.mn), mx = greatest(r.mx, {e}.mx),"
        f" last_ts = {e}.last_ts, last_v = {e}.last_v,"
        f" m2 = r.m2 + {e}.m2 + power({e}.s / {e}.n - r.s / r.n, 2)"
        f" * r.n * {e}.n / (r.n + {e}.n),"
        f" integ = r.integ + {e}.integ + r.last_v * ({e}.first_ts - r.last_ts),"
        f" inc = r.inc + {e}.inc + {step('r.last_v', f'{e}.first_v')}"
    )

"""Keeping ``rollup_1m`` and ``rollup_1h`` exact inside the writer's transaction.

Fast path (the batch inserted every point, so its partials are exactly what
was added): the batch's partials per tier are copied into a staging table and
folded into the stored rows with one upsert each. A stored row absorbs a
batch partial when all the new points come after its last point (the normal
case for a live stream); otherwise the bucket is put on the redo list.

Redo path: buckets whose new points interleave with stored ones, or every
touched bucket when the batch hit already-stored identities (a replay), are
recomputed: minutes from raw points, hours from minutes.
"""

from __future__ import annotations

import psycopg

from omp.historian.backends.postgres.algebra import (
    ALL_FIELDS,
    merge_partials,
    raw_partials,
    step,
)
from omp.historian.backends.postgres.copy_binary import encode_copy
from omp.historian.backends.postgres.partials import Partials
from omp.historian.backends.postgres.sqltext import Names, query, ts
from omp.historian.types import Tier

_COLUMNS = ", ".join(("signal_id", "bucket", *ALL_FIELDS))
_STAGE = {Tier.MINUTE: "omp_stage_1m", Tier.HOUR: "omp_stage_1h"}
_REDO = "omp_redo"


def create_staging(conn: psycopg.Connection[tuple[object, ...]], names: Names) -> None:
    """Session-local staging tables, emptied at every commit."""
    for tier, stage in _STAGE.items():
        conn.execute(
            query(
                f"CREATE TEMP TABLE IF NOT EXISTS {stage}"
                f" (LIKE {names.rollup[tier.value]}) ON COMMIT DELETE ROWS"
            )
        )
    conn.execute(
        query(
            f"CREATE TEMP TABLE IF NOT EXISTS {_REDO}"
            " (tier text NOT NULL, signal_id int4 NOT NULL, bucket int8 NOT NULL)"
            " ON COMMIT DELETE ROWS"
        )
    )


def stage(conn: psycopg.Connection[tuple[object, ...]], tier: Tier, partials: Partials) -> None:
    """Copy a batch's partials of ``tier`` into its staging table."""
    with conn.cursor().copy(
        query(f"COPY {_STAGE[tier]} ({_COLUMNS}) FROM STDIN (FORMAT BINARY)")
    ) as copy:
        copy.write(encode_copy(partials.copy_columns()))


def fold(conn: psycopg.Connection[tuple[object, ...]], names: Names, tier: Tier) -> int:
    """Fold staged partials into ``tier``; return how many buckets went on the redo list."""
    table = names.rollup[tier.value]
    stage_table = _STAGE[tier]
    redo = conn.execute(
        query(
            f"INSERT INTO {_REDO} SELECT '{tier.value}', s.signal_id, s.bucket"
            f" FROM {stage_table} s JOIN {table} r USING (signal_id, bucket)"
            " WHERE s.first_ts <= r.last_ts"
        )
    )
    conn.execute(query(_append_merge(table, stage_table)))
    return max(redo.rowcount, 0)


def redo_all(conn: psycopg.Connection[tuple[object, ...]], tier: Tier) -> None:
    """Put every staged bucket of ``tier`` on the redo list (after a replay)."""
    conn.execute(
        query(f"INSERT INTO {_REDO} SELECT '{tier.value}', signal_id, bucket FROM {_STAGE[tier]}")
    )


def recompute(conn: psycopg.Connection[tuple[object, ...]], names: Names) -> None:
    """Rebuild the redo list's buckets: minutes from raw points, then hours from minutes."""
    minute_width = Tier.MINUTE.width
    source = (
        f"SELECT p.signal_id, p.ts, p.value FROM {names.points} p"
        f" JOIN (SELECT DISTINCT signal_id, bucket FROM {_REDO} WHERE tier = '1m') k"
        f" ON p.signal_id = k.signal_id AND p.ts >= {ts('k.bucket')}"
        f" AND p.ts < {ts(f'k.bucket + {minute_width}')}"
    )
    minutes = raw_partials(source, minute_width, ALL_FIELDS)
    conn.execute(query(_overwrite(names.rollup["1m"], minutes)))
    hour_width = Tier.HOUR.width
    segments = (
        f"SELECT r.signal_id, r.bucket, {', '.join('r.' + f for f in ALL_FIELDS)}"
        f" FROM {names.rollup['1m']} r"
        f" JOIN (SELECT DISTINCT signal_id, bucket FROM {_REDO} WHERE tier = '1h') k"
        f" ON r.signal_id = k.signal_id AND r.bucket >= k.bucket"
        f" AND r.bucket < k.bucket + {hour_width}"
    )
    conn.execute(
        query(_overwrite(names.rollup["1h"], merge_partials(segments, hour_width, ALL_FIELDS)))
    )


def _overwrite(table: str, select: str) -> str:
    assignments = ", ".join(f"{f} = EXCLUDED.{f}" for f in ALL_FIELDS)
    return (
        f"INSERT INTO {table} ({_COLUMNS}) SELECT {_COLUMNS} FROM ({select}) x"
        f" ON CONFLICT (signal_id, bucket) DO UPDATE SET {assignments}"
    )


def _append_merge(table: str, stage_table: str) -> str:
    """Upsert staged partials; a stored row absorbs one whose points all come later.

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
        f" WHERE {e}.first_ts > r.last_ts"
    )

"""Keeping the 1-minute and 1-hour rollups in step with raw points.

Both run inside the write transaction, so rollups never disagree with raw:

* ``extend``: rows newer than everything stored for their signal. Their
  partials are computed in numpy and merged onto the stored row of the one
  bucket per signal that already held points (remembered in ``OpenRows``, or
  taken out with ``DELETE ... RETURNING``), then appended. Exact, because the
  stored points all come first.
* ``recompute``: late rows. Each touched ``(signal, minute)`` is recomputed
  from raw, then each touched hour from its minutes, so late data and
  partial replays stay exact.
"""

from __future__ import annotations

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from omp.core.batch import PointBatch
from omp.historian import numpy_partials
from omp.historian.backends.duckdb.open_rows import OpenRows
from omp.historian.backends.duckdb.partials import merge_partials, raw_partials
from omp.historian.backends.duckdb.schema import fetch_table
from omp.historian.backends.duckdb.write import NO_MARK, HighWater, Inserted
from omp.historian.partials import FIELDS
from omp.historian.types import Tier

_MINUTE = Tier.MINUTE.width
_HOUR = Tier.HOUR.width


def touched(signal_id: npt.NDArray[np.int32], ts: npt.NDArray[np.int64], width: int) -> pa.Table:
    """Distinct ``(signal_id, bucket)`` pairs of the given points."""
    bucket = ts - ts % width
    order = np.lexsort((bucket, signal_id))
    sid, b = signal_id[order], bucket[order]
    keep = numpy_partials.run_starts(sid, b)
    return pa.table({"signal_id": sid[keep], "bucket": b[keep]})


def refresh(
    con: duckdb.DuckDBPyConnection, stored: Inserted, prior: HighWater, memory: OpenRows
) -> None:
    """Bring the rollups up to date with one flush's inserted rows.

    Appended rows of signals that had stored points extend the rollups; late
    rows, and the rows of signals with no stored raw point (whose buckets may
    still hold rollups that outlived raw retention), are recomputed from raw.
    """
    rows = stored.appended
    known = prior.of(rows.signal_id) != NO_MARK
    extend(con, rows.take(known), prior, memory)
    unknown = rows.take(~known)
    late_ids = np.concatenate([unknown.signal_id, stored.late.signal_id])
    recompute(con, late_ids, np.concatenate([unknown.ts, stored.late.ts]))
    memory.stage_forget(late_ids)


def recompute(
    con: duckdb.DuckDBPyConnection, signal_id: npt.NDArray[np.int32], ts: npt.NDArray[np.int64]
) -> None:
    """Recompute from raw the rollups of every bucket the given late points fall in."""
    if not len(ts):
        return
    minutes = touched(signal_id, ts, _MINUTE)
    hours = touched(signal_id, ts, _HOUR)
    ids = ", ".join(str(int(i)) for i in np.unique(signal_id))
    lo, hi = int(ts.min()), int(ts.max())
    minute_lo, minute_hi = lo - lo % _MINUTE, hi - hi % _MINUTE + _MINUTE
    hour_lo, hour_hi = lo - lo % _HOUR, hi - hi % _HOUR + _HOUR
    raw = (
        "SELECT p.signal_id, p.ts, p.value FROM points p SEMI JOIN _omp_touched t "
        f"ON p.signal_id = t.signal_id AND p.ts - p.ts % {_MINUTE} = t.bucket "
        f"WHERE p.signal_id IN ({ids}) AND p.ts >= {minute_lo} AND p.ts < {minute_hi}"
    )
    window = f"signal_id IN ({ids}) AND bucket >= {{lo}} AND bucket < {{hi}}"
    minute_keys = window.format(lo=minute_lo, hi=minute_hi)
    replace(con, "rollup_1m", minutes, minute_keys, raw_partials(raw, _MINUTE, FIELDS))
    columns = ", ".join(("r.signal_id", "r.bucket", *(f"r.{f}" for f in FIELDS)))
    minute_rows = (
        f"SELECT {columns} FROM rollup_1m r SEMI JOIN _omp_touched t "
        f"ON r.signal_id = t.signal_id AND r.bucket - r.bucket % {_HOUR} = t.bucket "
        f"WHERE r.signal_id IN ({ids}) AND r.bucket >= {hour_lo} AND r.bucket < {hour_hi}"
    )
    hour_keys = window.format(lo=hour_lo, hi=hour_hi)
    replace(con, "rollup_1h", hours, hour_keys, merge_partials(minute_rows, _HOUR, FIELDS))


def replace(
    con: duckdb.DuckDBPyConnection, table: str, keys: pa.Table, prune: str, select: str
) -> None:
    """Replace the rows of ``keys`` by ``select``; ``prune`` bounds the scan (zone maps)."""
    con.register("_omp_touched", keys)
    try:
        con.execute(
            f"DELETE FROM {table} WHERE {prune} AND (signal_id, bucket) IN "
            "(SELECT (signal_id, bucket) FROM _omp_touched)"
        )
        con.execute(f"INSERT INTO {table} {select}")
    finally:
        con.unregister("_omp_touched")


def extend(
    con: duckdb.DuckDBPyConnection, rows: PointBatch, prior: HighWater, memory: OpenRows
) -> None:
    """Fold ``rows`` (sorted by ``(signal_id, ts)``, all above ``prior`` marks) into the rollups."""
    if not len(rows):
        return
    for table, width in (("rollup_1m", _MINUTE), ("rollup_1h", _HOUR)):
        new = numpy_partials.partials(rows.signal_id, rows.ts, rows.value, width=width)
        marks = prior.of(new["signal_id"])
        reopened = np.flatnonzero((marks >= 0) & (marks - marks % width == new["bucket"]))
        if len(reopened):
            hit, remembered = memory.lookup(
                table, new["signal_id"][reopened], new["bucket"][reopened]
            )
            _merge_remembered(con, table, new, reopened[hit], remembered)
            _merge_stored(con, table, new, reopened[~hit])
        _append(con, table, numpy_partials.to_arrow(new))
        last = np.append(new["signal_id"][1:] != new["signal_id"][:-1], True)
        memory.stage_store(table, numpy_partials.take(new, last))


def _merge_remembered(
    con: duckdb.DuckDBPyConnection,
    table: str,
    new: numpy_partials.Columns,
    positions: npt.NDArray[np.intp],
    remembered: numpy_partials.Columns,
) -> None:
    """Merge remembered stored rows into ``new`` at ``positions`` and delete them."""
    if not len(positions):
        return
    con.execute(f"DELETE FROM {table} WHERE {_keys(new, positions)}")
    merged = numpy_partials.merge_pairs(remembered, numpy_partials.take(new, positions))
    for name, column in merged.items():
        new[name][positions] = column


def _merge_stored(
    con: duckdb.DuckDBPyConnection,
    table: str,
    new: numpy_partials.Columns,
    positions: npt.NDArray[np.intp],
) -> None:
    """Merge the stored rows of ``new`` rows at ``positions`` into them (and delete them)."""
    if not len(positions):
        return
    stored = fetch_table(con, f"DELETE FROM {table} WHERE {_keys(new, positions)} RETURNING *")
    if not stored.num_rows:
        return
    old = numpy_partials.from_arrow(stored)
    # One reopened bucket per signal at most, so the signal id aligns them.
    at = positions[np.searchsorted(new["signal_id"][positions], old["signal_id"])]
    merged = numpy_partials.merge_pairs(old, numpy_partials.take(new, at))
    for name, column in merged.items():
        new[name][at] = column


def _append(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
    con.from_arrow(rows).insert_into(table)


def _keys(new: numpy_partials.Columns, positions: npt.NDArray[np.intp]) -> str:
    """A predicate matching the ``(signal_id, bucket)`` keys of ``new`` at ``positions``.

    Literal, one clause per distinct bucket (signals sampled together share
    one): far cheaper for DuckDB than a join against a registered key table.
    """
    sids, buckets = new["signal_id"][positions], new["bucket"][positions]
    return " OR ".join(
        f"(bucket = {int(b)} AND signal_id IN "
        f"({', '.join(str(int(i)) for i in sids[buckets == b])}))"
        for b in np.unique(buckets)
    )

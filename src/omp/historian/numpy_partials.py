"""The partial algebra (``omp.historian.partials``) in numpy, for the writers' append paths.

Partials are a ``Columns`` dict: ``signal_id``, ``bucket`` and every field of
``partials.FIELDS``, one row per ``(signal_id, bucket)``, ordered by them.
When every new point of a signal is newer than everything stored (the usual
case), a bucket's new rollup row is ``merge_pairs(stored row, partial of the
new points)``: the stored row comes first in time, so Chan's merge and the
step/increase chaining are exact. Computing that over a sorted flush costs
microseconds where recomputing from raw SQL costs milliseconds.

Non-finite or extreme values give non-finite partials (IEEE rules), never an
error: storing points must not depend on their statistics.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from omp.historian.partials import FIELDS

Columns = dict[str, npt.NDArray[Any]]
COLUMNS: tuple[str, ...] = ("signal_id", "bucket", *FIELDS)
"""Rollup table columns, in table order."""


def first_occurrences(
    signal_id: npt.NDArray[np.int32], ts: npt.NDArray[np.int64]
) -> npt.NDArray[np.intp]:
    """Row positions ordered by ``(signal_id, ts)``, keeping the first row of each identity.

    >>> first_occurrences(np.array([2, 1, 2], np.int32), np.array([5, 9, 5])).tolist()
    [1, 0]
    """
    order = np.lexsort((ts, signal_id))  # stable: equal identities keep batch order
    return order[run_starts(signal_id[order], ts[order])]


def run_starts(key_a: npt.NDArray[Any], key_b: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """Where a run of equal ``(key_a, key_b)`` starts, in rows sorted by both."""
    change = np.ones(len(key_a), dtype=np.bool_)
    change[1:] = (key_a[1:] != key_a[:-1]) | (key_b[1:] != key_b[:-1])
    return change


def partials(
    signal_id: npt.NDArray[np.int32],
    ts: npt.NDArray[np.int64],
    value: npt.NDArray[np.float64],
    *,
    width: int,
) -> Columns:
    """One partial per ``(signal_id, width bucket)`` of unique rows sorted by signal, time."""
    if not len(ts):
        return empty()
    with np.errstate(invalid="ignore", over="ignore"):
        return _partials(signal_id, ts, value, width)


def _partials(
    signal_id: npt.NDArray[np.int32],
    ts: npt.NDArray[np.int64],
    value: npt.NDArray[np.float64],
    width: int,
) -> Columns:
    bucket = ts - np.mod(ts, width)
    new_group = run_starts(signal_id, bucket)
    starts = np.flatnonzero(new_group)
    ends = np.append(starts[1:], len(ts)) - 1
    n = ends - starts + 1
    s = np.add.reduceat(value, starts)
    deviation = value - np.repeat(s / n, n)
    same = ~new_group[1:]  # pair (i, i + 1) lies inside one group
    integ = np.where(same, value[:-1] * np.diff(ts), 0.0)
    inc = np.where(same, step(value[:-1], value[1:]), 0.0)
    return {
        "signal_id": signal_id[starts],
        "bucket": bucket[starts],
        "n": n.astype(np.int64),
        "s": s,
        "mn": np.minimum.reduceat(value, starts),
        "mx": np.maximum.reduceat(value, starts),
        "first_ts": ts[starts],
        "first_v": value[starts],
        "last_ts": ts[ends],
        "last_v": value[ends],
        "m2": np.add.reduceat(deviation * deviation, starts),
        "integ": _pair_sums(integ, starts),
        "inc": _pair_sums(inc, starts),
    }


def coarsen(fine: Columns, *, width: int) -> Columns:
    """Merge partials ordered by ``(signal_id, bucket)`` into ``width``-aligned buckets.

    The same result as ``partials`` over the points, from far fewer rows: gaps
    between consecutive fine partials feed ``integ`` and ``inc``, and ``m2``
    merges by Chan et al.'s parallel formula.
    """
    if not len(fine["signal_id"]):
        return empty()
    with np.errstate(invalid="ignore", over="ignore"):
        return _coarsen(fine, width)


def _coarsen(fine: Columns, width: int) -> Columns:
    bucket = fine["bucket"] - np.mod(fine["bucket"], width)
    new_group = run_starts(fine["signal_id"], bucket)
    starts = np.flatnonzero(new_group)
    ends = np.append(starts[1:], len(bucket)) - 1
    n = np.add.reduceat(fine["n"], starts)
    s = np.add.reduceat(fine["s"], starts)
    spread = fine["s"] / fine["n"] - np.repeat(s / n, ends - starts + 1)
    same = ~new_group[1:]
    last_v, first_v = fine["last_v"], fine["first_v"]
    gap_integ = np.where(same, last_v[:-1] * (fine["first_ts"][1:] - fine["last_ts"][:-1]), 0.0)
    gap_inc = np.where(same, step(last_v[:-1], first_v[1:]), 0.0)
    return {
        "signal_id": fine["signal_id"][starts],
        "bucket": bucket[starts],
        "n": n,
        "s": s,
        "mn": np.minimum.reduceat(fine["mn"], starts),
        "mx": np.maximum.reduceat(fine["mx"], starts),
        "first_ts": fine["first_ts"][starts],
        "first_v": first_v[starts],
        "last_ts": fine["last_ts"][ends],
        "last_v": last_v[ends],
        "m2": np.add.reduceat(fine["m2"] + fine["n"] * spread * spread, starts),
        "integ": np.add.reduceat(fine["integ"], starts) + _pair_sums(gap_integ, starts),
        "inc": np.add.reduceat(fine["inc"], starts) + _pair_sums(gap_inc, starts),
    }


def merge_pairs(a: Columns, b: Columns) -> Columns:
    """Merge aligned partials where every point of ``a`` precedes every point of ``b``."""
    n = a["n"] + b["n"]
    delta = b["s"] / b["n"] - a["s"] / a["n"]
    return {
        "signal_id": a["signal_id"],
        "bucket": a["bucket"],
        "n": n,
        "s": a["s"] + b["s"],
        "mn": np.minimum(a["mn"], b["mn"]),
        "mx": np.maximum(a["mx"], b["mx"]),
        "first_ts": a["first_ts"],
        "first_v": a["first_v"],
        "last_ts": b["last_ts"],
        "last_v": b["last_v"],
        "m2": a["m2"] + b["m2"] + delta**2 * a["n"] * b["n"] / n,
        "integ": a["integ"] + b["integ"] + a["last_v"] * (b["first_ts"] - a["last_ts"]),
        "inc": a["inc"] + b["inc"] + step(a["last_v"], b["first_v"]),
    }


def step(prev: npt.NDArray[np.float64], cur: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Counter increase from ``prev`` to ``cur``: a decrease is a reset from zero."""
    return np.where(cur >= prev, cur - prev, cur)


def _pair_sums(pair_values: npt.NDArray[np.float64], starts: npt.NDArray[np.intp]) -> Any:
    """Sum per group of pair terms, where pair ``i`` links row ``i`` to ``i + 1``.

    A group's pairs are its rows but the last, so summing ``pair_values``
    extended by one zero over the group's row range counts exactly them (the
    pair leaving the group was zeroed by the caller).
    """
    return np.add.reduceat(np.append(pair_values, 0.0), starts)


def take(columns: Columns, index: npt.NDArray[np.intp] | npt.NDArray[np.bool_]) -> Columns:
    """The rows at ``index`` (positions or a mask)."""
    return {name: array[index] for name, array in columns.items()}


def empty() -> Columns:
    i64, f64 = np.empty(0, np.int64), np.empty(0, np.float64)
    out: Columns = dict.fromkeys(FIELDS, f64)
    out.update(signal_id=np.empty(0, np.int32), bucket=i64, n=i64, first_ts=i64, last_ts=i64)
    return out


def from_arrow(table: pa.Table) -> Columns:
    """Partials from Arrow rows with the rollup table's columns."""
    return {name: table.column(name).to_numpy() for name in COLUMNS}


def to_arrow(columns: Columns) -> pa.Table:
    """Rows in the column order of the rollup tables."""
    arrays = [pa.array(columns["signal_id"].astype(np.int32, copy=False))]
    arrays += [pa.array(columns[name]) for name in COLUMNS[1:]]
    return pa.Table.from_arrays(arrays, names=list(COLUMNS))

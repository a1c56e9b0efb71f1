"""Mergeable partial aggregates of a batch, per (signal, bucket), computed with numpy.

A partial describes the points of one signal inside one bucket:

* ``n``, ``s`` (sum), ``mn``, ``mx``;
* ``first_ts``/``first_v`` and ``last_ts``/``last_v``: the earliest and latest point;
* ``m2``: the sum of squared deviations from the bucket mean (for the sample stddev);
* ``integ``: the step integral between the bucket's own points,
  ``sum v[i] * (t[i+1] - t[i])`` (value times microseconds); the span before
  the first and after the last point is added at query time, when the
  carried-in value and the query edges are known;
* ``inc``: the counter increase between the bucket's own points, a
  decrease counting as a reset; the step from the carried-in value to the
  first point is likewise added at query time.

The names and meanings match the embedded backend's rollup partials, so the
two stores can be compared column by column.

Two partials of one signal whose points do not interleave merge exactly
(``rollups.APPEND_MERGE`` does it in SQL), which is what lets the writer
fold a new batch into a rollup row without rereading raw points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from omp.historian.backends.postgres.copy_binary import Column, PgType

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Partials:
    """One row per (signal, bucket), ordered by (signal_id, bucket)."""

    signal_id: npt.NDArray[np.int32]
    bucket: I64
    n: I64
    s: F64
    mn: F64
    mx: F64
    first_ts: I64
    first_v: F64
    last_ts: I64
    last_v: F64
    m2: F64
    integ: F64
    inc: F64

    def __len__(self) -> int:
        return len(self.signal_id)

    def take(self, mask: npt.NDArray[np.bool_]) -> Partials:
        """The rows where ``mask`` is true."""
        return Partials(*(getattr(self, name)[mask] for name in self.__slots__))

    def copy_columns(self) -> list[Column]:
        """The columns in rollup table order, typed for the binary COPY encoder."""
        return [
            (PgType.INT4, self.signal_id),
            (PgType.INT8, self.bucket),
            (PgType.INT8, self.n),
            (PgType.FLOAT8, self.s),
            (PgType.FLOAT8, self.mn),
            (PgType.FLOAT8, self.mx),
            (PgType.INT8, self.first_ts),
            (PgType.FLOAT8, self.first_v),
            (PgType.INT8, self.last_ts),
            (PgType.FLOAT8, self.last_v),
            (PgType.FLOAT8, self.m2),
            (PgType.FLOAT8, self.integ),
            (PgType.FLOAT8, self.inc),
        ]


def compute_partials(
    signal_id: npt.NDArray[np.int32], ts: I64, value: F64, *, width: int
) -> Partials:
    """Partials of points sorted by ``(signal_id, ts)`` with unique identities.

    Non-finite or extreme values give non-finite partials (IEEE rules), never
    an error: storing the points must not depend on their statistics.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        return _compute(signal_id, ts, value, width)


def _compute(signal_id: npt.NDArray[np.int32], ts: I64, value: F64, width: int) -> Partials:
    bucket = ts - np.mod(ts, width)
    n_points = len(ts)
    if n_points == 0:
        return _empty()
    new_group = np.empty(n_points, dtype=bool)
    new_group[0] = True
    new_group[1:] = (signal_id[1:] != signal_id[:-1]) | (bucket[1:] != bucket[:-1])
    starts = np.flatnonzero(new_group)
    ends = np.append(starts[1:], n_points) - 1
    counts = ends - starts + 1
    sums = np.add.reduceat(value, starts)
    means = sums / counts
    deviation = value - np.repeat(means, counts)
    # Pairs (i, i+1) inside one group: the step integral and the counter increase.
    same = ~new_group[1:]
    step_integral = np.where(same, value[:-1] * (ts[1:] - ts[:-1]), 0.0)
    rise = value[1:] - value[:-1]
    step_increase = np.where(same, np.where(rise >= 0, rise, value[1:]), 0.0)
    return Partials(
        signal_id=signal_id[starts],
        bucket=bucket[starts],
        n=counts.astype(np.int64),
        s=sums,
        mn=np.minimum.reduceat(value, starts),
        mx=np.maximum.reduceat(value, starts),
        first_ts=ts[starts],
        first_v=value[starts],
        last_ts=ts[ends],
        last_v=value[ends],
        m2=np.add.reduceat(deviation * deviation, starts),
        integ=_pair_sums(step_integral, starts),
        inc=_pair_sums(step_increase, starts),
    )


def coarsen(fine: Partials, *, width: int) -> Partials:
    """Merge partials ordered by ``(signal_id, bucket)`` into ``width``-aligned buckets.

    The same result as ``compute_partials`` over the points, from far fewer
    rows: gaps between consecutive fine partials feed ``integ`` and ``inc``,
    and ``m2`` merges by Chan et al.'s parallel formula.
    """
    if len(fine) == 0:
        return _empty()
    with np.errstate(invalid="ignore", over="ignore"):
        return _coarsen(fine, width)


def _coarsen(fine: Partials, width: int) -> Partials:
    bucket = fine.bucket - np.mod(fine.bucket, width)
    new_group = np.empty(len(fine), dtype=bool)
    new_group[0] = True
    new_group[1:] = (fine.signal_id[1:] != fine.signal_id[:-1]) | (bucket[1:] != bucket[:-1])
    starts = np.flatnonzero(new_group)
    ends = np.append(starts[1:], len(fine)) - 1
    n = np.add.reduceat(fine.n, starts)
    s = np.add.reduceat(fine.s, starts)
    spread = fine.s / fine.n - np.repeat(s / n, ends - starts + 1)
    same = ~new_group[1:]
    gap_integ = np.where(same, fine.last_v[:-1] * (fine.first_ts[1:] - fine.last_ts[:-1]), 0.0)
    rise = fine.first_v[1:] - fine.last_v[:-1]
    gap_inc = np.where(same, np.where(rise >= 0, rise, fine.first_v[1:]), 0.0)
    return Partials(
        signal_id=fine.signal_id[starts],
        bucket=bucket[starts],
        n=n,
        s=s,
        mn=np.minimum.reduceat(fine.mn, starts),
        mx=np.maximum.reduceat(fine.mx, starts),
        first_ts=fine.first_ts[starts],
        first_v=fine.first_v[starts],
        last_ts=fine.last_ts[ends],
        last_v=fine.last_v[ends],
        m2=np.add.reduceat(fine.m2 + fine.n * spread * spread, starts),
        integ=np.add.reduceat(fine.integ, starts) + _pair_sums(gap_integ, starts),
        inc=np.add.reduceat(fine.inc, starts) + _pair_sums(gap_inc, starts),
    )


def _empty() -> Partials:
    i64, f64 = np.empty(0, np.int64), np.empty(0, np.float64)
    return Partials(
        np.empty(0, np.int32), i64, i64, f64, f64, f64, i64, f64, i64, f64, f64, f64, f64
    )


def _pair_sums(pair_values: F64, starts: npt.NDArray[np.intp]) -> F64:
    """Sum per group of pair terms, where pair ``i`` links point ``i`` to ``i + 1``.

    A group's pairs are its points but the last, so summing ``pair_values``
    extended by one zero over the group's point range counts exactly them
    (the pair leaving the group was zeroed by the caller).
    """
    padded = np.append(pair_values, 0.0)
    return np.add.reduceat(padded, starts)

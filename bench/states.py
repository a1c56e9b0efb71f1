"""Time in state: answered from raw points against answered from the state rollups, same data.

100 state signals sampled at 1 Hz (a state change every ~10 minutes per
signal), written hour by hour into the embedded historian with the signals
declared as state signals, then time in state per hour and per day over the
whole range, raw tier forced against the planner's choice. The two answers
must be equal.

    python bench/states.py --days 30
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from omp.core.batch import PointBatch
from omp.core.time import US_PER_DAY, US_PER_HOUR, US_PER_SECOND
from omp.historian.backends.duckdb import DuckDBBackend
from omp.historian.types import StateQuery, Tier

from common import START_US, Result, report, timed


def write_states(backend: DuckDBBackend, ids: list[int], days: int) -> float:
    """Write ``days`` of state codes hour by hour; return the seconds spent writing."""
    rng = np.random.default_rng(1)
    state = rng.integers(0, 5, len(ids))
    sid = np.repeat(np.array(ids, dtype=np.int32), 3600)
    spent = 0.0
    for hour in range(days * 24):
        ts = START_US + hour * US_PER_HOUR + np.arange(3600, dtype=np.int64) * US_PER_SECOND
        changes = rng.random((len(ids), 3600)) < 1 / 600
        codes = (state[:, None] + np.cumsum(changes, axis=1)) % 5
        state = codes[:, -1]
        batch = PointBatch.of(sid, np.tile(ts, len(ids)), codes.ravel().astype(np.float64))
        t0 = time.perf_counter()
        backend.write(batch, None, ())
        spent += time.perf_counter() - t0
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--signals", type=int, default=100)
    args = parser.parse_args()
    path = Path(tempfile.mkdtemp(prefix="omp-bench-states-")) / "historian.duckdb"
    backend = DuckDBBackend.open(path)
    ids = list(backend.ensure_ids([f"s/{i}" for i in range(args.signals)]).values())
    backend.track_states(ids)
    spent = write_states(backend, ids, args.days)
    points = args.days * 24 * 3600 * args.signals
    print(f"wrote {points:,} points in {spent:.1f} s ({points / spent:,.0f} points/s)")
    end = START_US + args.days * US_PER_DAY
    results: list[Result] = []
    for every, label in ((US_PER_HOUR, "1h"), (US_PER_DAY, "1d")):

        def answer(tier: Tier | None, every: int = every) -> object:
            query = StateQuery(tuple(ids), START_US, end, every, now=end, tier=tier)
            return backend.state_durations(query)

        if answer(Tier.RAW) != answer(None):
            raise SystemExit(f"{label}: rollup-served and raw answers differ")
        raw_time, _ = timed(lambda: answer(Tier.RAW), repeat=1)
        tier_time, _ = timed(lambda: answer(None))
        results.append(
            Result(
                f"time in state, {args.days} days x {args.signals} signals, {label} buckets",
                tier_time,
                "s",
                "same query from raw points",
                raw_time,
                notes={"points": points},
            )
        )
    backend.close()
    report("states-duckdb", results)


if __name__ == "__main__":
    main()

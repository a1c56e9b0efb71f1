"""Query speed and disk use on the embedded historian, against hand-written SQL on the same engine.

1. One day of 1 Hz data for 100 signals (8.64M points): 1-minute avg/min/max
   through ``Historian.aggregate`` (raw tier forced, and as the planner picks)
   against hand-written DuckDB SQL over the same table.
2. Thirty days of the same (259M points): the same query, answered from the
   rollups, must take under 1 s.
3. Bytes per point on disk for that data (rollups included).

    python bench/query.py --days 30
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb

from omp.core.time import US_PER_DAY, US_PER_MINUTE
from omp.historian.backends.duckdb import DuckDBBackend
from omp.historian.service import Historian
from omp.historian.types import Agg, AggregateQuery, Tier

from common import START_US, Result, dir_size, random_walk_batches, report, timed
from references import duckdb_minute_aggregate_sql

AGGS = (Agg.AVG, Agg.MIN, Agg.MAX)


def load(path: Path, *, signals: int, days: int) -> tuple[int, float]:
    """Write ``days`` of data through the historian; return points and points/s."""
    historian = Historian(DuckDBBackend.open(path), queue_points=4_000_000, flush_points=500_000)
    historian.start()
    points = 0
    t0 = time.perf_counter()
    for batch in random_walk_batches(signals=signals, seconds=days * 86_400, batch_points=100_000):
        historian.write(batch)
        points += len(batch)
    historian.flush(timeout=3_600)
    rate = points / (time.perf_counter() - t0)
    historian.stop()
    return points, rate


def query(historian: Historian, ids: tuple[int, ...], days: int, tier: Tier | None) -> int:
    q = AggregateQuery(ids, START_US, START_US + days * US_PER_DAY, US_PER_MINUTE, AGGS, tier)
    return int(historian.aggregate(q).num_rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=100)
    parser.add_argument("--days", type=int, default=30, help="days of history for the long query")
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: temp)")
    parser.add_argument(
        "--reuse", action="store_true", help="query the file a previous run left in --dir"
    )
    args = parser.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="omp-bench-query-"))
    path = work / "historian.duckdb"
    ids = tuple(range(1, args.signals + 1))

    if args.reuse and path.exists():
        with duckdb.connect(str(path), read_only=True) as con:
            points = int(con.execute("SELECT count(*) FROM points").fetchone()[0])  # type: ignore[index]
        load_rate = float("nan")
    else:
        points, load_rate = load(path, signals=args.signals, days=args.days)
    print(f"{points:,} points, loaded at {load_rate:,.0f} points/s")
    size = dir_size(path)
    con = duckdb.connect(str(path), read_only=True)
    day_end = START_US + US_PER_DAY
    rows = duckdb_minute_aggregate_sql(con, "points", ids, START_US, day_end)
    sql_1d, _ = timed(lambda: duckdb_minute_aggregate_sql(con, "points", ids, START_US, day_end))
    con.close()

    historian = Historian(DuckDBBackend.open(path))
    assert query(historian, ids, 1, Tier.RAW) == rows
    omp_raw_1d, _ = timed(lambda: query(historian, ids, 1, Tier.RAW))
    planned = historian.plan(AggregateQuery(ids, START_US, day_end, US_PER_MINUTE, AGGS))
    omp_auto_1d, _ = timed(lambda: query(historian, ids, 1, None))
    long_plan = historian.plan(
        AggregateQuery(ids, START_US, START_US + args.days * US_PER_DAY, US_PER_MINUTE, AGGS)
    )
    long_rows = query(historian, ids, args.days, None)
    omp_long, _ = timed(lambda: query(historian, ids, args.days, None))
    historian.stop()

    report(
        "query-duckdb",
        [
            Result(
                "1-day 1m avg/min/max, 100 signals, raw tier forced",
                omp_raw_1d,
                "s",
                "hand-written DuckDB SQL",
                sql_1d,
                "<= 1.5",
                {"rows": rows},
            ),
            Result(
                f"1-day 1m avg/min/max, planner's choice ({planned})",
                omp_auto_1d,
                "s",
                "hand-written DuckDB SQL",
                sql_1d,
                "<= 1.5",
            ),
            Result(
                f"{args.days}-day 1m avg/min/max, planner's choice ({long_plan})",
                omp_long,
                "s",
                target="< 1 s",
                notes={"rows": long_rows},
            ),
            Result(
                "disk, embedded (points + rollups + catalog)",
                size / points,
                "bytes/point",
                target="<= InfluxDB (6.9 here)",
                notes={"points": points, "file_bytes": size, "load_points_per_s": load_rate},
            ),
        ],
    )


if __name__ == "__main__":
    main()

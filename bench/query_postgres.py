"""Query speed on the PostgreSQL historian against hand-written SQL on the same tables.

One day of 1 Hz data for 100 signals (8.64M points) is written through the
historian into a fresh schema; then the 1-minute avg/min/max query runs
through ``Historian.aggregate`` (raw tier forced, and as the planner picks)
and as hand-written SQL over the same ``points`` table.

    python bench/query_postgres.py
"""

from __future__ import annotations

import argparse
import uuid

import psycopg

from omp.core.time import US_PER_DAY, US_PER_MINUTE
from omp.historian.backends.postgres import PostgresBackend
from omp.historian.service import Historian
from omp.historian.types import Agg, AggregateQuery, Tier

from common import START_US, Result, random_walk_batches, report, timed

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
AGGS = (Agg.AVG, Agg.MIN, Agg.MAX)
HAND_WRITTEN = """
SELECT signal_id, date_bin('1 minute', ts, 'epoch') AS bucket, avg(value), min(value), max(value)
FROM {schema}.points
WHERE signal_id = ANY(%s) AND ts >= to_timestamp(%s / 1e6) AND ts < to_timestamp(%s / 1e6)
GROUP BY 1, 2 ORDER BY 1, 2
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=100)
    parser.add_argument("--url", default=PG_URL)
    args = parser.parse_args()
    schema = f"bench_q_{uuid.uuid4().hex[:8]}"
    ids = tuple(range(1, args.signals + 1))
    end = START_US + US_PER_DAY
    try:
        historian = Historian(PostgresBackend.open(args.url, schema=schema))
        with historian:
            for batch in random_walk_batches(
                signals=args.signals, seconds=86_400, batch_points=100_000
            ):
                historian.write(batch)
            historian.flush(timeout=3_600)
        with psycopg.connect(args.url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")

            def hand_written() -> int:
                sql = HAND_WRITTEN.format(schema=schema)
                return len(conn.execute(sql, [list(ids), START_US, end]).fetchall())  # type: ignore[arg-type]

            rows = hand_written()
            sql_time, _ = timed(hand_written)
        historian = Historian(PostgresBackend.open(args.url, schema=schema))

        def through_omp(tier: Tier | None) -> int:
            query = AggregateQuery(ids, START_US, end, US_PER_MINUTE, AGGS, tier)
            return int(historian.aggregate(query).num_rows)

        if through_omp(Tier.RAW) != rows:
            raise SystemExit("omp and the hand-written SQL disagree on the row count")
        raw_time, _ = timed(lambda: through_omp(Tier.RAW))
        auto_time, _ = timed(lambda: through_omp(None))
        planned = historian.plan(AggregateQuery(ids, START_US, end, US_PER_MINUTE, AGGS))
        historian.stop()
    finally:
        with psycopg.connect(args.url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    report(
        "query-postgres",
        [
            Result(
                "1-day 1m avg/min/max, 100 signals, raw tier forced",
                raw_time,
                "s",
                "hand-written SQL, same tables",
                sql_time,
                "<= 1.5",
                {"rows": rows},
            ),
            Result(
                f"1-day 1m avg/min/max, planner's choice ({planned})",
                auto_time,
                "s",
                "hand-written SQL, same tables",
                sql_time,
                "<= 1.5",
            ),
        ],
    )


if __name__ == "__main__":
    main()

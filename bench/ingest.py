"""Ingest throughput: omp's full write path against the raw engine, same rows, same run.

Embedded: ``Ingest.submit`` -> ``Historian`` (bounded queue, single writer,
flush window) -> DuckDB backend with replay-safe writes and 1m/1h rollups,
timed until ``flush()`` says everything is durable; the reference is a raw
DuckDB Arrow append of the same 10k-row batches into a plain table.

PostgreSQL: the same path into the PostgreSQL backend; the reference is a
raw binary COPY of the same rows into a plain, unindexed table.

    python bench/ingest.py --backend duckdb --seconds 36000
    python bench/ingest.py --backend postgres --seconds 36000
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import psycopg

from omp.bus import Bus
from omp.core.batch import PointBatch
from omp.historian.backend import HistorianBackend
from omp.historian.service import Historian
from omp.ingest import Ingest
from omp.model import compile_model, parse_model

from common import Result, dir_size, random_walk_batches, report
from references import duckdb_arrow_append, pg_binary_copy

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def bench_model(signals: int) -> str:
    """A factory model of one machine with ``signals`` float temperatures."""
    lines = "\n".join(f"      s{i:04d}: {{unit: Cel}}" for i in range(1, signals + 1))
    return f"""
enterprise: bench
equipment_types:
  sensor_rack:
    signals:
{lines}
sites:
  site:
    timezone: UTC
    areas:
      area:
        lines:
          line:
            cells:
              cell:
                equipment:
                  rack: {{type: sensor_rack}}
"""


def omp_ingest(backend: HistorianBackend, batches: Sequence[PointBatch], signals: int) -> float:
    """Points/s through Ingest and the Historian service until durable."""
    historian = Historian(backend, queue_points=2_000_000)
    historian.start()
    # The historian's fresh catalog hands out ids 1..N in path order, as the batches use them.
    registry = compile_model(parse_model(bench_model(signals)), ids=historian)
    if sorted(s.id for s in registry.signals) != list(range(1, signals + 1)):
        raise SystemExit("the benchmark expects signal ids 1..N from a fresh catalog")
    ingest = Ingest(registry, historian=historian, bus=Bus())
    total = sum(len(b) for b in batches)
    t0 = time.perf_counter()
    for batch in batches:
        ingest.submit(batch)
    historian.flush(timeout=600)
    elapsed = time.perf_counter() - t0
    stats = historian.stats()
    # Replay the first tenth: first write wins, nothing may be added.
    replay = batches[: max(1, len(batches) // 10)]
    t1 = time.perf_counter()
    for batch in replay:
        ingest.submit(batch)
    historian.flush(timeout=600)
    replay_rate = sum(len(b) for b in replay) / (time.perf_counter() - t1)
    after = historian.stats()
    historian.stop(close_backend=False)
    if stats.points_written != total or after.points_written != total:
        raise SystemExit(
            f"wrote {stats.points_written} then {after.points_written} points, expected {total}"
        )
    print(
        f"replay of {sum(len(b) for b in replay):,} points: {replay_rate:,.0f} points/s, "
        f"{after.duplicates - stats.duplicates:,} duplicates skipped"
    )
    return total / elapsed


def bench_duckdb(batches: list[PointBatch], signals: int) -> list[Result]:
    from omp.historian.backends.duckdb import DuckDBBackend

    work = Path(tempfile.mkdtemp(prefix="omp-bench-"))
    reference = duckdb_arrow_append(work / "raw.duckdb", batches)
    backend = DuckDBBackend.open(work / "omp.duckdb")
    rate = omp_ingest(backend, batches, signals)
    backend.close()
    points = sum(len(b) for b in batches)
    return [
        Result(
            "embedded ingest (rollups on, replay-safe)",
            rate,
            "points/s",
            "raw DuckDB Arrow append, 10k batches",
            reference,
            ">= 0.50",
            {"points": points, "omp_bytes_per_point": dir_size(work / "omp.duckdb") / points},
        )
    ]


def bench_postgres(batches: list[PointBatch], signals: int, url: str) -> list[Result]:
    from omp.historian.backends.postgres import PostgresBackend

    ref_schema = f"bench_raw_{uuid.uuid4().hex[:8]}"
    omp_schema = f"bench_omp_{uuid.uuid4().hex[:8]}"
    # The reference COPYs the rows in 100k-row statements, the size of omp's own flushes,
    # which is faster than one COPY per 10k batch: the stricter yardstick.
    merged = [
        PointBatch.of(
            np.concatenate([b.signal_id for b in group]),
            np.concatenate([b.ts for b in group]),
            np.concatenate([b.value for b in group]),
            np.concatenate([b.quality for b in group]),
        )
        for group in (batches[i : i + 10] for i in range(0, len(batches), 10))
    ]
    try:
        reference = pg_binary_copy(url, ref_schema, merged)
        backend = PostgresBackend.open(url, schema=omp_schema)
        rate = omp_ingest(backend, batches, signals)
        backend.close()
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            for schema in (ref_schema, omp_schema):
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    return [
        Result(
            "PostgreSQL ingest (rollups on, replay-safe)",
            rate,
            "points/s",
            "raw binary COPY, plain table, 100k-row COPYs",
            reference,
            ">= 0.60",
            {"points": sum(len(b) for b in batches)},
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["duckdb", "postgres"], default="duckdb")
    parser.add_argument("--signals", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=36_000, help="seconds of 1 Hz data")
    parser.add_argument("--batch", type=int, default=10_000, help="points per submitted batch")
    parser.add_argument("--url", default=PG_URL)
    args = parser.parse_args()
    batches = list(
        random_walk_batches(signals=args.signals, seconds=args.seconds, batch_points=args.batch)
    )
    if args.backend == "duckdb":
        results = bench_duckdb(batches, args.signals)
    else:
        results = bench_postgres(batches, args.signals, args.url)
    report(f"ingest-{args.backend}", results)


if __name__ == "__main__":
    main()

"""Bytes per point on disk for realistic sensor data: embedded, PostgreSQL and InfluxDB, one run.

The data is a slow random walk at a fixed resolution (0.01), 1 s sampling,
100 signals: what a plant's temperatures and pressures look like. omp's
figures include the rollup tables and indexes, because a user pays for them.
InfluxDB 1.x (Debian's ``influxdb`` package; ``apt-get install influxdb``)
is the reference: it is started here on a private port and data directory,
written through line protocol in 5k-point requests, and measured after a
full compaction.

    python bench/disk.py --seconds 86400
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Sequence
from pathlib import Path

import psycopg

from omp.core.batch import PointBatch
from omp.historian.backends.duckdb import DuckDBBackend
from omp.historian.backends.postgres import PostgresBackend
from omp.historian.service import Historian

from common import Result, dir_size, random_walk_batches, report

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"

INFLUX_CONFIG = """
reporting-disabled = true
bind-address = "127.0.0.1:{rpc}"
[meta]
  dir = "{root}/meta"
[data]
  dir = "{root}/data"
  wal-dir = "{root}/wal"
  cache-snapshot-write-cold-duration = "1s"
  compact-full-write-cold-duration = "2s"
  index-version = "inmem"
[http]
  bind-address = "127.0.0.1:{http}"
  log-enabled = false
[monitor]
  store-enabled = false
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def store(backend_name: str, batches: Sequence[PointBatch], work: Path) -> int:
    """Write through the historian and return the bytes the store uses."""
    if backend_name == "duckdb":
        path = work / "omp.duckdb"
        with Historian(DuckDBBackend.open(path)) as historian:
            for batch in batches:
                historian.write(batch)
            historian.flush(timeout=600)
        return dir_size(path)
    schema = f"bench_disk_{uuid.uuid4().hex[:8]}"
    try:
        with Historian(PostgresBackend.open(PG_URL, schema=schema)) as historian:
            for batch in batches:
                historian.write(batch)
            historian.flush(timeout=600)
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            row = conn.execute(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind IN ('r', 'm')",
                [schema],
            ).fetchone()
        return int(row[0]) if row and row[0] is not None else 0
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def influx(batches: Sequence[PointBatch], work: Path) -> int:
    """Bytes InfluxDB's TSM files use for the same points after full compaction."""
    if shutil.which("influxd") is None:
        raise SystemExit("influxd not found: apt-get install influxdb")
    root = work / "influx"
    root.mkdir()
    http = free_port()
    config = root / "influxdb.conf"
    config.write_text(INFLUX_CONFIG.format(root=root, http=http, rpc=free_port()))
    server = subprocess.Popen(
        ["influxd", "-config", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{http}"
    try:
        _wait_http(f"{base}/ping")
        _post(f"{base}/query", b"q=CREATE DATABASE bench")
        for batch in batches:
            for lo in range(0, len(batch), 5_000):
                _post(f"{base}/write?db=bench&precision=s", _lines(batch, lo, lo + 5_000))
        return _settled_size(root / "data")
    finally:
        server.terminate()
        server.wait(timeout=30)


def _lines(batch: PointBatch, lo: int, hi: int) -> bytes:
    seconds = batch.ts[lo:hi] // 1_000_000
    return "\n".join(
        f"sensor,signal={sid} value={value!r} {ts}"
        for sid, value, ts in zip(
            batch.signal_id[lo:hi].tolist(),
            batch.value[lo:hi].tolist(),
            seconds.tolist(),
            strict=True,
        )
    ).encode()


def _post(url: str, body: bytes) -> None:
    request = urllib.request.Request(url, data=body, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()


def _wait_http(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"influxd did not answer at {url}")


def _settled_size(data: Path) -> int:
    """Wait until the WAL is snapshotted and compaction stops changing the TSM files."""
    last, stable = -1, 0
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and stable < 5:
        time.sleep(2)
        size = sum(p.stat().st_size for p in data.rglob("*.tsm"))
        stable = stable + 1 if size == last else 0
        last = size
    return last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=86_400)
    parser.add_argument("--skip-influx", action="store_true")
    args = parser.parse_args()
    batches = list(
        random_walk_batches(signals=args.signals, seconds=args.seconds, batch_points=100_000)
    )
    points = sum(len(b) for b in batches)
    work = Path(tempfile.mkdtemp(prefix="omp-bench-disk-"))
    try:
        influx_bpp = 0.0 if args.skip_influx else influx(batches, work) / points
        results = [
            Result(
                f"{name}, bytes per point",
                store(name, batches, work) / points,
                "B/point",
                "InfluxDB 1.x TSM, compacted" if influx_bpp else "",
                influx_bpp,
                "<= InfluxDB",
                {"points": points},
            )
            for name in ("duckdb", "postgres")
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report("disk", results)


if __name__ == "__main__":
    main()

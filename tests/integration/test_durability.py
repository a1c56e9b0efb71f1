"""A ``kill -9`` in the middle of ingest leaves a file that opens, holding every flushed point.

A child process ingests through the ``Historian`` service into a DuckDB file,
calling ``flush`` now and then and printing the newest timestamp each flush
made durable. The test kills it with SIGKILL while it is writing, reopens
the file and checks: everything up to the last reported flush is there, no
identity is stored twice, the rollups agree with raw, and a replay of the
whole stream adds only what was lost.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from omp.core.batch import PointBatch
from omp.historian.backends.duckdb import DuckDBBackend
from omp.historian.types import Agg, AggregateQuery, RawQuery, Tier

SIGNALS = 20
STEP = 1_000_000  # one point per signal per second
T0 = 1_767_225_600_000_000
PER_BATCH = 50  # seconds of data per write call

CHILD = textwrap.dedent(
    f"""
    import sys
    import numpy as np
    from omp.core.batch import PointBatch
    from omp.historian.backends.duckdb import DuckDBBackend
    from omp.historian.service import Historian

    backend = DuckDBBackend.open(sys.argv[1])
    historian = Historian(backend, flush_interval=20_000, flush_points=5_000).start()
    print("ready", flush=True)
    k = 0
    while True:
        seconds = np.arange(k * {PER_BATCH}, (k + 1) * {PER_BATCH})
        ts = np.repeat({T0} + seconds * {STEP}, {SIGNALS})
        sid = np.tile(np.arange(1, {SIGNALS} + 1, dtype=np.int32), {PER_BATCH})
        historian.write(PointBatch.of(sid, ts, np.sin(ts / 1e9)))
        k += 1
        if k % 7 == 0:
            historian.flush(timeout=30)
            print("flushed", int(ts.max()), flush=True)
    """
)


def _batch(first_second: int, seconds: int) -> PointBatch:
    import numpy as np

    secs = np.arange(first_second, first_second + seconds)
    ts = np.repeat(T0 + secs * STEP, SIGNALS)
    sid = np.tile(np.arange(1, SIGNALS + 1, dtype=np.int32), seconds)
    return PointBatch.of(sid, ts, np.sin(ts / 1e9))


@pytest.mark.slow
@pytest.mark.parametrize("flushes_before_kill", [3, 25])
def test_sigkill_mid_ingest_keeps_every_flushed_point(
    tmp_path: Path, flushes_before_kill: int
) -> None:
    path = tmp_path / "historian.duckdb"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    acknowledged = None
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready", child.stderr
        seen = 0
        while seen < flushes_before_kill:
            line = child.stdout.readline()
            assert line, f"child ended early: {child.stderr.read() if child.stderr else ''}"
            acknowledged = int(line.split()[1])
            seen += 1
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()
    assert child.returncode == -signal.SIGKILL
    assert acknowledged is not None

    backend = DuckDBBackend.open(path)
    try:
        _check_store(backend, acknowledged)
    finally:
        backend.close()


def _check_store(backend: DuckDBBackend, acknowledged: int) -> None:
    ids = tuple(range(1, SIGNALS + 1))
    newest = int(max(backend.latest(ids).column("ts").to_pylist()))
    assert newest >= acknowledged
    durable_seconds = (acknowledged - T0) // STEP + 1
    stored_seconds = (newest - T0) // STEP + 1
    # Every point up to the acknowledged flush, exactly once; whole flushes after it.
    seen: set[tuple[int, int]] = set()
    after = None
    while True:
        page, after = backend.read_raw(RawQuery(ids, T0, newest + 1, limit=50_000, after=after))
        pairs = zip(
            page.column("signal_id").to_pylist(), page.column("ts").to_pylist(), strict=True
        )
        for pair in pairs:
            assert pair not in seen, f"duplicate point {pair}"
            seen.add(pair)
        if after is None:
            break
    assert len(seen) == stored_seconds * SIGNALS
    assert len(seen) >= durable_seconds * SIGNALS
    # Rollups were committed with their raw points.
    q = AggregateQuery(ids, T0, newest + 1, 3_600_000_000, (Agg.COUNT, Agg.SUM))
    from_rollups = backend.aggregate(q, Tier.MINUTE).to_pylist()
    from_raw = backend.aggregate(q, Tier.RAW).to_pylist()
    assert [r["count"] for r in from_rollups] == [r["count"] for r in from_raw]
    assert [r["sum"] for r in from_rollups] == pytest.approx([r["sum"] for r in from_raw])
    # A replay of the stream after the crash stores only the missing points.
    replay = backend.write(_batch(0, stored_seconds + 100), None, ())
    assert replay.duplicates == stored_seconds * SIGNALS
    assert replay.points == 100 * SIGNALS

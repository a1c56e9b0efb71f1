"""A writer killed with SIGKILL mid-ingest leaves whole flushes only, and replays stay exact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from omp.core.batch import PointBatch
from tests.integration.postgres.conftest import Store

pytestmark = pytest.mark.postgres

T0 = 1_767_225_600_000_000
SIGNALS, SECONDS = 20, 500  # 10k points per flush

WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from omp.core.batch import PointBatch
    from omp.historian.backends.postgres import PostgresBackend

    url, schema = sys.argv[1], sys.argv[2]
    backend = PostgresBackend.open(url, schema=schema)
    for k in range(10_000):
        ts = {t0} + (k * {seconds} + np.arange({seconds})) * 1_000_000
        sid = np.repeat(np.arange(1, {signals} + 1, dtype=np.int32), {seconds})
        backend.write(PointBatch.of(sid, np.tile(ts, {signals}), np.ones(len(sid))), None, ())
        print(k, flush=True)
    """
).format(t0=T0, seconds=SECONDS, signals=SIGNALS)


def _flush(k: int) -> PointBatch:
    ts = T0 + (k * SECONDS + np.arange(SECONDS)) * 1_000_000
    sid = np.repeat(np.arange(1, SIGNALS + 1, dtype=np.int32), SECONDS)
    return PointBatch.of(sid, np.tile(ts, SIGNALS), np.ones(len(sid)))


def test_sigkill_mid_ingest_then_replay(store: Store, tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with subprocess.Popen(
        [sys.executable, str(script), store.url, store.schema],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    ) as proc:
        assert proc.stdout is not None
        acknowledged = -1
        deadline = time.monotonic() + 60
        while acknowledged < 5 and time.monotonic() < deadline:
            acknowledged = int(proc.stdout.readline())
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert acknowledged >= 5

    per_flush = SIGNALS * SECONDS
    stored = int(store.sql("SELECT count(*) FROM {s}.points")[0][0])  # type: ignore[call-overload]
    assert stored % per_flush == 0  # whole flushes only
    assert stored >= (acknowledged + 1) * per_flush  # everything acknowledged is there
    flushes = stored // per_flush

    backend = store.open()
    stats = [backend.write(_flush(k), None, ()) for k in range(flushes + 2)]
    backend.close()
    assert [s.points for s in stats] == [0] * flushes + [per_flush, per_flush]
    rows = store.sql("SELECT count(*), count(DISTINCT (signal_id, ts)) FROM {s}.points")
    assert rows == [((flushes + 2) * per_flush, (flushes + 2) * per_flush)]
    assert store.sql("SELECT sum(n) FROM {s}.rollup_1m") == [((flushes + 2) * per_flush,)]
    assert store.sql("SELECT sum(n) FROM {s}.rollup_1h") == [((flushes + 2) * per_flush,)]

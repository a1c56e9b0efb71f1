"""Time in each state per bucket, for state signals."""

from __future__ import annotations

import random

import pytest

from omp.core.time import US_PER_DAY
from omp.historian.backend import HistorianBackend
from omp.historian.types import StateQuery
from tests.integration.historian import _reference
from tests.integration.historian._helpers import T0, H, M, S, ids, rows, write_points

RUNNING, IDLE, DOWN = 1.0, 2.0, 3.0


def _durations(backend: HistorianBackend, q: StateQuery) -> dict[tuple[int, int, float], int]:
    table = backend.state_durations(q)
    assert table.schema.names == ["signal_id", "bucket", "state", "duration"]
    got = rows(table)
    keys = [(r["signal_id"], r["bucket"], r["state"]) for r in got]
    assert keys == sorted(keys)  # type: ignore[type-var]
    return {
        (int(r["signal_id"]), int(r["bucket"]), float(r["state"])): int(r["duration"]) for r in got
    }  # type: ignore[call-overload]


def test_hand_computed_states_with_carry_and_now(backend: HistorianBackend) -> None:
    (m,) = ids(backend, "mill/state")
    write_points(
        backend,
        [m] * 4,
        [T0 - 10 * M, T0 + 15 * M, T0 + 40 * M, T0 + 70 * M],
        [IDLE, RUNNING, DOWN, RUNNING],
    )
    q = StateQuery((m,), T0, T0 + 2 * H, H, now=T0 + 80 * M)
    assert _durations(backend, q) == {
        (m, T0, IDLE): 15 * M,  # carried in from before start
        (m, T0, RUNNING): 25 * M,
        (m, T0, DOWN): 20 * M,
        (m, T0 + H, DOWN): 10 * M,  # carried from the previous bucket
        (m, T0 + H, RUNNING): 10 * M,  # runs until now, not until the bucket end
    }


def test_unaligned_range_clips_durations(backend: HistorianBackend) -> None:
    (m,) = ids(backend, "mill/state")
    write_points(backend, [m, m], [T0, T0 + 30 * M], [RUNNING, IDLE])
    q = StateQuery((m,), T0 + 20 * M, T0 + 45 * M, H, now=T0 + 10 * H)
    assert _durations(backend, q) == {(m, T0, RUNNING): 10 * M, (m, T0, IDLE): 15 * M}


def test_state_older_than_the_carry_limit_is_unknown(backend: HistorianBackend) -> None:
    (m,) = ids(backend, "mill/state")
    write_points(backend, [m, m], [T0 - 8 * US_PER_DAY, T0 + 30 * M], [RUNNING, IDLE])
    q = StateQuery((m,), T0, T0 + H, H, now=T0 + H)
    assert _durations(backend, q) == {(m, T0, IDLE): 30 * M}


def test_nothing_after_now(backend: HistorianBackend) -> None:
    (m,) = ids(backend, "mill/state")
    write_points(backend, [m], [T0 + 10 * M], [RUNNING])
    assert _durations(backend, StateQuery((m,), T0, T0 + H, H, now=T0 + 5 * M)) == {}


@pytest.mark.parametrize("seed", [1, 2])
def test_matches_reference_on_random_state_changes(backend: HistorianBackend, seed: int) -> None:
    rng = random.Random(seed)
    a, b = ids(backend, "a/state", "b/state")
    series: dict[int, list[tuple[int, float]]] = {}
    for sid in (a, b):
        t, pts = T0 - 2 * H, []
        while t < T0 + 2 * US_PER_DAY:
            t += rng.randrange(S, 3 * H)
            pts.append((t, float(rng.randrange(1, 5))))
        series[sid] = pts
        write_points(backend, [sid] * len(pts), [p[0] for p in pts], [p[1] for p in pts])
    for start, end, every, now in [
        (T0, T0 + 2 * US_PER_DAY, H, T0 + 30 * H + 7),
        (T0 + 7 * M + 3, T0 + US_PER_DAY - 11 * S, 15 * M, T0 + 3 * US_PER_DAY),
    ]:
        q = StateQuery((a, b), start, end, every, now=now)
        want = _reference.state_durations(series, start=start, end=end, every=every, now=now)
        assert _durations(backend, q) == want

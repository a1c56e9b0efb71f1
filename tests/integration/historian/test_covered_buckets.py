"""Buckets without points that a carried-in value covers: report-on-change signals.

A state or measurement sent only on change holds between its points. Time in
state and twa report every bucket it is in force in, and a rollup-served
answer equals the raw one on such data (long gaps, irregular times).
"""

from __future__ import annotations

import math
import random

import pytest

from omp.core.time import US_PER_DAY
from omp.historian.backend import HistorianBackend
from omp.historian.types import Agg, AggregateQuery, StateQuery, Tier
from tests.integration.historian import _reference
from tests.integration.historian._helpers import T0, H, M, S, ids, rows, write_points

PRODUCING, IDLE = 1.0, 2.0


def test_one_state_point_fills_every_hour_it_holds(backend: HistorianBackend) -> None:
    (m,) = ids(backend, "press/state")
    write_points(backend, [m, m], [T0 + 30 * M, T0 + 8 * H + 30 * M], [PRODUCING, IDLE])
    q = StateQuery((m,), T0, T0 + 10 * H, H, now=T0 + 9 * H + 15 * M)
    got = {(r["bucket"], r["state"]): r["duration"] for r in rows(backend.state_durations(q))}
    want = {(T0, PRODUCING): 30 * M}
    want |= {(T0 + h * H, PRODUCING): H for h in range(1, 8)}
    want |= {(T0 + 8 * H, PRODUCING): 30 * M, (T0 + 8 * H, IDLE): 30 * M}
    want |= {(T0 + 9 * H, IDLE): 15 * M}  # until now, and nothing after it
    assert got == want


def test_state_carried_from_before_start_fills_empty_buckets(backend: HistorianBackend) -> None:
    (m,) = ids(backend, "press/state")
    write_points(backend, [m], [T0 - 3 * US_PER_DAY], [IDLE])
    q = StateQuery((m,), T0, T0 + 3 * H, H, now=T0 + US_PER_DAY)
    got = {(r["bucket"], r["state"]): r["duration"] for r in rows(backend.state_durations(q))}
    assert got == {(T0 + h * H, IDLE): H for h in range(3)}


def test_state_stops_counting_at_the_carry_limit(backend: HistorianBackend) -> None:
    (m,) = ids(backend, "press/state")
    write_points(backend, [m], [T0], [PRODUCING])
    q = StateQuery((m,), T0, T0 + 9 * US_PER_DAY, US_PER_DAY, now=T0 + 30 * US_PER_DAY)
    got = {(r["bucket"], r["state"]): r["duration"] for r in rows(backend.state_durations(q))}
    # Day 7 starts exactly CARRY_LIMIT after the point: still in force; day 8 is not.
    assert got == {(T0 + d * US_PER_DAY, PRODUCING): US_PER_DAY for d in range(8)}


def _on_change_series(rng: random.Random, sids: list[int]) -> dict[int, list[tuple[int, float]]]:
    """Irregular points with gaps from seconds to 9 days (some beyond the carry limit)."""
    series: dict[int, list[tuple[int, float]]] = {}
    for sid in sids:
        t, pts = T0 - 2 * US_PER_DAY + rng.randrange(H), []
        while t < T0 + 20 * US_PER_DAY:
            pts.append((t, float(rng.randrange(0, 6))))
            gap = rng.choice([S, 7 * S, 13 * M, 5 * H, 2 * US_PER_DAY, 9 * US_PER_DAY])
            t += rng.randrange(1, gap + 1)
        series[sid] = pts
    return series


@pytest.mark.parametrize("seed", [11, 12])
def test_rollup_served_equals_raw_on_long_gaps(backend: HistorianBackend, seed: int) -> None:
    rng = random.Random(seed)
    sids = ids(backend, "a", "b", "c")
    series = _on_change_series(rng, sids)
    for sid, pts in series.items():
        write_points(backend, [sid] * len(pts), [p[0] for p in pts], [p[1] for p in pts])
    aggs = tuple(Agg)
    for start, end, every in [
        (T0, T0 + 18 * US_PER_DAY, H),
        (T0 + 7 * M + 3, T0 + 12 * US_PER_DAY - 11 * S, 6 * H),
        (T0 - US_PER_DAY, T0 + 3 * US_PER_DAY, 15 * M),
    ]:
        q = AggregateQuery(tuple(sids), start, end, every, aggs)
        want = _reference.aggregate(series, start=start, end=end, every=every, aggs=aggs)
        answers = {t: rows(backend.aggregate(q, t)) for t in Tier if every % max(t.width, 1) == 0}
        for tier, got in answers.items():
            keyed = {(r["signal_id"], r["bucket"]): r for r in got}
            assert set(keyed) == set(want), (tier, start, every)
            for key, expected in want.items():
                for agg, value in expected.items():
                    actual = keyed[key][agg.value]
                    if value is None or actual is None:
                        assert actual is value is None, (tier, key, agg, actual, value)
                    else:
                        assert math.isclose(actual, value, rel_tol=1e-9, abs_tol=1e-6)
        q_states = StateQuery(tuple(sids), start, end, every, now=T0 + 15 * US_PER_DAY)
        want_states = _reference.state_durations(
            series, start=start, end=end, every=every, now=T0 + 15 * US_PER_DAY
        )
        got_states = {
            (r["signal_id"], r["bucket"], r["state"]): r["duration"]
            for r in rows(backend.state_durations(q_states))
        }
        assert got_states == want_states

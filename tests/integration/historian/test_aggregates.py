"""Time-bucket aggregates, exactly per ``omp.historian.types``, on every tier.

Hand-computed cases pin each rule; a randomised case with irregular times,
counter resets, late points and replays compares raw-served and
rollup-served answers of every aggregate with the naive reference.
"""

from __future__ import annotations

import math
import random

import pytest

from omp.core.time import US_PER_DAY
from omp.historian.backend import HistorianBackend
from omp.historian.types import Agg, AggregateQuery, Tier
from tests.integration.historian import _reference
from tests.integration.historian._helpers import T0, H, M, S, ids, rows, write_points

ALL = tuple(Agg)


def _by_bucket(
    backend: HistorianBackend, q: AggregateQuery, tier: Tier
) -> dict[tuple[int, int], dict[str, object]]:
    table = backend.aggregate(q, tier)
    assert table.schema.names == ["signal_id", "bucket", *(a.value for a in q.aggs)]
    got = rows(table)
    assert [(r["signal_id"], r["bucket"]) for r in got] == sorted(
        (r["signal_id"], r["bucket"]) for r in got
    )
    return {(int(r["signal_id"]), int(r["bucket"])): r for r in got}  # type: ignore[call-overload]


def test_hand_computed_bucket(backend: HistorianBackend) -> None:
    (a,) = ids(backend, "a")
    write_points(backend, [a] * 4, [T0, T0 + 10 * S, T0 + 40 * S, T0 + M], [1.0, 3.0, 2.0, 5.0])
    got = _by_bucket(backend, AggregateQuery((a,), T0, T0 + 2 * M, M, ALL), Tier.RAW)
    first = got[(a, T0)]
    assert first["avg"] == 2.0
    assert first["min"] == 1.0
    assert first["max"] == 3.0
    assert first["count"] == 3.0
    assert first["sum"] == 6.0
    assert first["first"] == 1.0
    assert first["last"] == 2.0
    assert first["stddev"] == pytest.approx(1.0)
    assert first["twa"] == pytest.approx((1 * 10 + 3 * 30 + 2 * 20) / 60)
    assert first["increase"] == pytest.approx(2.0 + 2.0)  # 1->3, then 3->2 is a reset: +2
    second = got[(a, T0 + M)]
    assert second["stddev"] is None
    assert second["twa"] == 5.0
    assert second["increase"] == 3.0  # the step from the carried-in 2 to 5 belongs here


def test_carried_in_value_from_before_an_unaligned_start(backend: HistorianBackend) -> None:
    (a,) = ids(backend, "a")
    write_points(backend, [a, a], [T0, T0 + 45 * S], [10.0, 20.0])
    got = _by_bucket(backend, AggregateQuery((a,), T0 + 30 * S, T0 + M, M, ALL), Tier.RAW)
    row = got[(a, T0)]
    assert row["count"] == 1.0
    assert row["first"] == 20.0
    assert row["twa"] == pytest.approx((10 * 15 + 20 * 15) / 30)
    assert row["increase"] == 10.0


@pytest.mark.parametrize(("age", "carried"), [(7 * US_PER_DAY, True), (8 * US_PER_DAY, False)])
def test_carry_limit(backend: HistorianBackend, age: int, carried: bool) -> None:
    (a,) = ids(backend, "a")
    write_points(backend, [a, a], [T0 - age, T0 + 30 * S], [100.0, 50.0])
    row = _by_bucket(backend, AggregateQuery((a,), T0, T0 + M, M, ALL), Tier.RAW)[(a, T0)]
    assert row["twa"] == pytest.approx(75.0 if carried else 50.0)
    assert row["increase"] == (50.0 if carried else 0.0)


def test_twa_covers_empty_buckets_with_the_carried_value(backend: HistorianBackend) -> None:
    (a,) = ids(backend, "a")
    write_points(backend, [a] * 3, [T0 + 30 * S, T0 + 2 * M, T0 + 2 * M + 30 * S], [4.0, 6.0, 1.0])
    got = _by_bucket(backend, AggregateQuery((a,), T0, T0 + 5 * M, M, ALL), Tier.RAW)
    assert sorted(b for _, b in got) == [T0 + i * M for i in range(5)]
    assert got[(a, T0)]["twa"] == 4.0
    empty = got[(a, T0 + M)]  # no point, but 4.0 holds through it
    assert (empty["twa"], empty["count"], empty["increase"]) == (4.0, 0.0, 0.0)
    assert all(empty[x] is None for x in ("avg", "min", "max", "sum", "first", "last", "stddev"))
    assert got[(a, T0 + 2 * M)]["twa"] == pytest.approx((6 * 30 + 1 * 30) / 60)
    assert got[(a, T0 + 2 * M)]["increase"] == 2.0 + 1.0  # 4->6, then reset to 1
    assert got[(a, T0 + 3 * M)]["twa"] == got[(a, T0 + 4 * M)]["twa"] == 1.0


def test_point_aggregates_alone_list_only_buckets_with_points(backend: HistorianBackend) -> None:
    (a,) = ids(backend, "a")
    write_points(backend, [a, a], [T0 + 30 * S, T0 + 3 * M], [4.0, 6.0])
    aggs = tuple(x for x in ALL if x is not Agg.TWA)
    for tier in (Tier.RAW, Tier.MINUTE):
        got = _by_bucket(backend, AggregateQuery((a,), T0, T0 + 5 * M, M, aggs), tier)
        assert sorted(b for _, b in got) == [T0, T0 + 3 * M], tier


def test_twa_gap_buckets_stop_at_the_carry_limit(backend: HistorianBackend) -> None:
    (a,) = ids(backend, "a")
    write_points(backend, [a], [T0 + 30 * M], [2.5])
    q = AggregateQuery((a,), T0 + US_PER_DAY, T0 + 9 * US_PER_DAY, US_PER_DAY, (Agg.TWA,))
    got = _by_bucket(backend, q, Tier.RAW)
    # A bucket counts while its start is within 7 days of the point: T0 + 7d does, T0 + 8d not.
    assert sorted(b for _, b in got) == [T0 + d * US_PER_DAY for d in range(1, 8)]
    assert {r["twa"] for r in got.values()} == {2.5}


def test_twa_gap_buckets_stop_at_now(backend: HistorianBackend) -> None:
    (a,) = ids(backend, "a")
    write_points(backend, [a], [T0 + 30 * S], [3.0])
    for now, buckets in [(T0 + 3 * M + 1, 4), (T0 + 3 * M, 3), (T0 - M, 1), (None, 6)]:
        q = AggregateQuery((a,), T0, T0 + 6 * M, M, (Agg.TWA, Agg.COUNT), now=now)
        for tier in (Tier.RAW, Tier.MINUTE):
            got = _by_bucket(backend, q, tier)
            assert sorted(b for _, b in got) == [T0 + i * M for i in range(buckets)], (now, tier)


def test_twa_before_the_first_point_ever_is_absent(backend: HistorianBackend) -> None:
    (a,) = ids(backend, "a")
    write_points(backend, [a], [T0 + 3 * M], [1.0])
    got = _by_bucket(backend, AggregateQuery((a,), T0, T0 + 5 * M, M, (Agg.TWA,)), Tier.RAW)
    assert sorted(b for _, b in got) == [T0 + 3 * M, T0 + 4 * M]


def test_empty_answers(backend: HistorianBackend) -> None:
    (a,) = ids(backend, "a")
    for tier in Tier:
        every = max(tier.width, M)
        table = backend.aggregate(AggregateQuery((a,), T0, T0 + H, every, ALL), tier)
        assert table.num_rows == 0
        assert table.schema.names == ["signal_id", "bucket", *(x.value for x in ALL)]


def test_reference_matches_hand_computed() -> None:
    series = {1: [(T0, 1.0), (T0 + 10 * S, 3.0), (T0 + 40 * S, 2.0), (T0 + M, 5.0)]}
    got = _reference.aggregate(series, start=T0, end=T0 + 2 * M, every=M, aggs=ALL)
    assert got[(1, T0)][Agg.TWA] == pytest.approx(140 / 60)
    assert got[(1, T0)][Agg.INCREASE] == 4.0
    assert got[(1, T0 + M)][Agg.INCREASE] == 3.0
    assert got[(1, T0 + M)][Agg.STDDEV] is None


def _assert_matches(
    got: dict[tuple[int, int], dict[str, object]],
    want: dict[tuple[int, int], dict[Agg, float | None]],
    label: object,
) -> None:
    assert set(got) == set(want), label
    for key, expected in want.items():
        for agg, value in expected.items():
            actual = got[key][agg.value]
            if value is None:
                assert actual is None, (label, key, agg)
                continue
            assert isinstance(actual, float), (label, key, agg)
            close = math.isclose(actual, value, rel_tol=1e-9, abs_tol=1e-6)
            assert close, (label, key, agg, actual, value)


def _irregular(backend: HistorianBackend, seed: int) -> dict[int, list[tuple[int, float]]]:
    """Write irregular data with resets, late points and conflicting replays; return the stored."""
    rng = random.Random(seed)
    meas, counter, sparse = ids(backend, "temp", "parts", "rare")
    points: list[tuple[int, int, float]] = []
    t, v, c = T0 - 2 * H, 20.0, 0.0
    while t < T0 + 3 * US_PER_DAY:
        t += int(rng.expovariate(1 / 90) * S) + rng.randrange(1, S)
        if rng.random() < 0.002:
            t += 5 * H
        v = round(v + rng.gauss(0, 0.3), 2)
        c = float(rng.randrange(0, 3)) if rng.random() < 0.01 else c + rng.randrange(0, 6)
        points += [(meas, t, v), (counter, t + rng.randrange(0, 5 * S), c)]
    for when in (
        -9 * US_PER_DAY,
        -8 * US_PER_DAY,
        US_PER_DAY + 17 * S,
        US_PER_DAY + 31 * M,
        2 * US_PER_DAY + 5 * H,
    ):
        points.append((sparse, T0 + when, float(rng.randrange(100))))
    rng.shuffle(points)
    on_time = sorted(points[: len(points) * 7 // 10], key=lambda p: p[1])
    late = points[len(points) * 7 // 10 :]
    replays = [(s, ts, val + 1000.0) for s, ts, val in rng.sample(on_time, 200)]
    stored: dict[tuple[int, int], float] = {}
    for chunk in _chunks(on_time, 700) + _chunks(late + replays, 300):
        write_points(backend, [p[0] for p in chunk], [p[1] for p in chunk], [p[2] for p in chunk])
        for s, ts, val in chunk:
            stored.setdefault((s, ts), val)
    series: dict[int, list[tuple[int, float]]] = {}
    for (s, ts), val in sorted(stored.items()):
        series.setdefault(s, []).append((ts, val))
    return series


def _chunks(items: list[tuple[int, int, float]], size: int) -> list[list[tuple[int, int, float]]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


QUERIES = [
    (T0 - 30 * M + 17 * S, T0 + 2 * US_PER_DAY + 5 * M + 3 * S, M),
    (T0 + 13 * M + 7 * S, T0 + 3 * US_PER_DAY - 7 * M, H),
    (T0 - US_PER_DAY, T0 + 3 * US_PER_DAY, 15 * M),
    (T0 - 10 * US_PER_DAY, T0 + 4 * US_PER_DAY, US_PER_DAY),
    (T0 + 5 * S, T0 + 50 * M + 5 * S, 2 * H),
]


def test_every_tier_gives_the_reference_answer(backend: HistorianBackend) -> None:
    series = _irregular(backend, seed=11)
    sids = tuple(sorted(series))
    for start, end, every in QUERIES:
        want = _reference.aggregate(series, start=start, end=end, every=every, aggs=ALL)
        tiers = [t for t in Tier if t is Tier.RAW or every % t.width == 0]
        for tier in tiers:
            got = _by_bucket(backend, AggregateQuery(sids, start, end, every, ALL), tier)
            _assert_matches(got, want, (tier, start, end, every))


def test_rollups_follow_late_points(backend: HistorianBackend) -> None:
    (a,) = ids(backend, "a")
    write_points(backend, [a] * 3, [T0 + 10 * S, T0 + 2 * M, T0 + 2 * H], [1.0, 2.0, 3.0])
    write_points(backend, [a, a], [T0 + 5 * S, T0 + 90 * M], [10.0, 4.0])  # late, two buckets
    q = AggregateQuery((a,), T0, T0 + 3 * H, H, ALL)
    for tier in (Tier.MINUTE, Tier.HOUR):
        got = _by_bucket(backend, q, tier)
        assert got[(a, T0)]["count"] == 3.0
        assert got[(a, T0)]["first"] == 10.0
        assert got[(a, T0 + H)]["count"] == 1.0
        assert got[(a, T0 + H)]["increase"] == 2.0  # carried 2 -> 4
    assert _by_bucket(backend, q, Tier.MINUTE) == _by_bucket(backend, q, Tier.RAW)


def test_a_rollup_tier_that_does_not_divide_every_is_refused(backend: HistorianBackend) -> None:
    (a,) = ids(backend, "a")
    with pytest.raises(ValueError, match="multiple"):
        backend.aggregate(AggregateQuery((a,), T0, T0 + 10 * H, 90 * M, (Agg.AVG,)), Tier.HOUR)


def test_rollups_extended_by_many_small_in_order_flushes(backend: HistorianBackend) -> None:
    """Each flush splits minutes and hours, so stored rollup rows are merged with new ones."""
    rng = random.Random(5)
    meas, counter = ids(backend, "temp", "parts")
    series: dict[int, list[tuple[int, float]]] = {meas: [], counter: []}
    t, v, c = T0 - 3 * M, 0.0, 0.0
    while t < T0 + 30 * H:
        t += rng.randrange(1, 40 * S)
        v = round(v + rng.gauss(0, 1), 3)
        c = 0.0 if rng.random() < 0.02 else c + rng.randrange(0, 4)
        series[meas].append((t, v))
        series[counter].append((t + 1, c))
    merged = sorted((ts, sid, val) for sid, pts in series.items() for ts, val in pts)
    i = 0
    while i < len(merged):
        chunk = merged[i : i + rng.randrange(1, 60)]
        write_points(backend, [p[1] for p in chunk], [p[0] for p in chunk], [p[2] for p in chunk])
        i += len(chunk)
    for start, end, every in [(T0, T0 + 30 * H, H), (T0 - 2 * M + 1, T0 + 29 * H + 7, M)]:
        want = _reference.aggregate(series, start=start, end=end, every=every, aggs=ALL)
        for tier in (Tier.MINUTE, Tier.HOUR):
            if every % tier.width:
                continue
            got = _by_bucket(backend, AggregateQuery((meas, counter), start, end, every, ALL), tier)
            _assert_matches(got, want, (tier, start, end, every))


def test_appends_after_a_late_point_in_the_open_bucket(backend: HistorianBackend) -> None:
    (a,) = ids(backend, "a")
    series = [(T0 + 10 * S, 1.0), (T0 + 20 * S, 5.0)]
    for ts, value in series:  # the second write extends the rollups of the first
        write_points(backend, [a], [ts], [value])
    write_points(backend, [a], [T0 + 15 * S], [3.0])  # late, into the newest minute and hour
    write_points(backend, [a, a], [T0 + 30 * S, T0 + 40 * S], [2.0, 7.0])  # reopens both
    series = sorted([*series, (T0 + 15 * S, 3.0), (T0 + 30 * S, 2.0), (T0 + 40 * S, 7.0)])
    for every in (M, H):
        want = _reference.aggregate({a: series}, start=T0, end=T0 + H, every=every, aggs=ALL)
        for tier in (Tier.MINUTE, Tier.HOUR):
            if every % tier.width == 0:
                q = AggregateQuery((a,), T0, T0 + H, every, ALL)
                _assert_matches(_by_bucket(backend, q, tier), want, (tier, every))

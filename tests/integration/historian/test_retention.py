"""Retention: ``delete_before`` per tier and per signal."""

from __future__ import annotations

from omp.historian.backend import HistorianBackend
from omp.historian.types import Agg, AggregateQuery, RawQuery, Tier
from tests.integration.historian._helpers import T0, H, M, S, ids, rows, write_points, write_text
from tests.integration.historian.conftest import BackendFactory


def _raw_ts(backend: HistorianBackend, sid: int) -> list[int]:
    table, _ = backend.read_raw(RawQuery((sid,), 0, T0 * 2, limit=10_000))
    return [int(r["ts"]) for r in rows(table)]  # type: ignore[call-overload]


def test_raw_cutoff_applies_only_to_listed_signals(backend: HistorianBackend) -> None:
    a, b, t = ids(backend, "a", "b", "t")
    times = [T0 + i * H for i in range(4)]
    write_points(backend, [a] * 4 + [b] * 4, times * 2, [1.0] * 8)
    write_text(backend, [t] * 4, times, ["x"] * 4)
    deleted = backend.delete_before(Tier.RAW, [(T0 + 2 * H, [a, t]), (T0 + H, [b])])
    assert deleted == 2 + 2 + 1
    assert _raw_ts(backend, a) == times[2:]
    assert _raw_ts(backend, t) == times[2:]
    assert _raw_ts(backend, b) == times[1:]


def test_rollups_outlive_raw_and_have_their_own_cutoffs(backend: HistorianBackend) -> None:
    (a,) = ids(backend, "a")
    times = [T0 + i * 10 * M + 5 * S for i in range(18)]  # three hours
    write_points(backend, [a] * len(times), times, [float(i) for i in range(18)])
    q = AggregateQuery((a,), T0, T0 + 3 * H, H, (Agg.COUNT, Agg.SUM))
    before = backend.aggregate(q, Tier.MINUTE)
    backend.delete_before(Tier.RAW, [(T0 + 3 * H, [a])])
    assert _raw_ts(backend, a) == []
    assert backend.aggregate(q, Tier.MINUTE).equals(before)
    assert backend.aggregate(q, Tier.HOUR).equals(before)
    deleted = backend.delete_before(Tier.MINUTE, [(T0 + H + 5 * M, [a])])
    assert deleted == 7  # minutes ending by the cutoff: six in the first hour, and 1:00
    assert rows(backend.aggregate(q, Tier.MINUTE))[0]["bucket"] == T0 + H
    assert backend.delete_before(Tier.HOUR, [(T0 + H + 5 * M, [a])]) == 1
    assert rows(backend.aggregate(q, Tier.HOUR))[0]["bucket"] == T0 + H


def test_nothing_to_delete(backend: HistorianBackend) -> None:
    (a,) = ids(backend, "a")
    assert backend.delete_before(Tier.RAW, [(T0, [a]), (T0, [])]) == 0


def test_a_point_after_raw_retention_never_duplicates_a_rollup_bucket(
    backend_factory: BackendFactory,
) -> None:
    backend = backend_factory()
    (a,) = ids(backend, "a")
    write_points(backend, [a, a], [T0 + 5 * S, T0 + 10 * S], [1.0, 2.0])
    backend.delete_before(Tier.RAW, [(T0 + H, [a])])
    backend.close()
    backend = backend_factory()  # no raw point of the signal is left
    write_points(backend, [a], [T0 + 20 * S], [3.0])
    for every in (M, H):
        q = AggregateQuery((a,), T0, T0 + H, every, (Agg.COUNT, Agg.LAST))
        for tier in (Tier.MINUTE, Tier.HOUR):
            if every % tier.width == 0:
                got = rows(backend.aggregate(q, tier))
                assert [r["bucket"] for r in got] == [T0], (every, tier)
                assert got[0]["last"] == 3.0
    backend.close()

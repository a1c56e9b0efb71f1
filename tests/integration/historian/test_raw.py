"""Raw range reads with paging, and the latest value per signal."""

from __future__ import annotations

import random

from omp.historian.backend import HistorianBackend
from omp.historian.types import Cursor, RawQuery
from tests.integration.historian._helpers import T0, S, ids, rows, write_points, write_text


def test_range_is_half_open_and_ordered_by_ts_then_signal(backend: HistorianBackend) -> None:
    a, b = ids(backend, "a", "b")
    write_points(
        backend, [b, a, a, b, a], [T0, T0, T0 + S, T0 + 2 * S, T0 + 2 * S], [1, 2, 3, 4, 5]
    )
    table, cursor = backend.read_raw(RawQuery((a, b), T0, T0 + 2 * S))
    assert cursor is None
    assert [(r["ts"], r["signal_id"]) for r in rows(table)] == [(T0, a), (T0, b), (T0 + S, a)]
    assert table.schema.names == ["signal_id", "ts", "value", "text", "quality"]


def test_only_requested_signals_are_read(backend: HistorianBackend) -> None:
    a, b = ids(backend, "a", "b")
    write_points(backend, [a, b], [T0, T0], [1, 2])
    table, _ = backend.read_raw(RawQuery((b,), T0, T0 + S))
    assert [r["signal_id"] for r in rows(table)] == [b]


def test_paging_returns_every_point_exactly_once(backend: HistorianBackend) -> None:
    sigs = ids(backend, "a", "b", "c")
    rng = random.Random(7)
    stored = {(s, T0 + rng.randrange(0, 500) * S) for s in sigs for _ in range(120)}
    pairs = sorted(stored, key=lambda p: (p[1], p[0]))
    write_points(backend, [p[0] for p in pairs], [p[1] for p in pairs], [1.0] * len(pairs))
    seen: list[tuple[int, int]] = []
    after: Cursor | None = None
    pages = 0
    while True:
        table, after = backend.read_raw(
            RawQuery(tuple(sigs), T0, T0 + 600 * S, limit=37, after=after)
        )
        seen += [(r["signal_id"], r["ts"]) for r in rows(table)]
        pages += 1
        assert table.num_rows <= 37
        if after is None:
            break
    assert seen == pairs
    assert pages == -(-len(pairs) // 37)


def test_exact_last_page_ends_with_no_cursor(backend: HistorianBackend) -> None:
    (a,) = ids(backend, "a")
    write_points(backend, [a] * 4, [T0 + i * S for i in range(4)], [0, 1, 2, 3])
    first, cursor = backend.read_raw(RawQuery((a,), T0, T0 + 10 * S, limit=2))
    assert cursor == Cursor(ts=T0 + S, signal_id=a)
    second, cursor = backend.read_raw(RawQuery((a,), T0, T0 + 10 * S, limit=2, after=cursor))
    assert [r["value"] for r in rows(first) + rows(second)] == [0, 1, 2, 3]
    assert cursor is None  # the second page is full, but nothing follows it


def test_text_values_in_raw_reads(backend: HistorianBackend) -> None:
    num, txt = ids(backend, "speed", "order")
    write_points(backend, [num], [T0], [3.5])
    write_text(backend, [txt, txt], [T0, T0 + S], ["A-1", "B-2"])
    table, _ = backend.read_raw(RawQuery((num, txt), T0, T0 + 5 * S))
    assert rows(table) == [
        {"signal_id": num, "ts": T0, "value": 3.5, "text": None, "quality": 0},
        {"signal_id": txt, "ts": T0, "value": None, "text": "A-1", "quality": 0},
        {"signal_id": txt, "ts": T0 + S, "value": None, "text": "B-2", "quality": 0},
    ]


def test_latest_per_signal_including_text(backend: HistorianBackend) -> None:
    a, b, t, never = ids(backend, "a", "b", "t", "never")
    write_points(backend, [a, a, b], [T0, T0 + 5 * S, T0 + S], [1, 2, 3], [0, 1, 0])
    write_points(backend, [a], [T0 + 2 * S], [9])  # late: not the latest
    write_text(backend, [t, t], [T0 + 3 * S, T0], ["new", "old"])
    latest = rows(backend.latest([a, b, t, never]))
    assert latest == [
        {"signal_id": a, "ts": T0 + 5 * S, "value": 2.0, "text": None, "quality": 1},
        {"signal_id": b, "ts": T0 + S, "value": 3.0, "text": None, "quality": 0},
        {"signal_id": t, "ts": T0 + 3 * S, "value": None, "text": "new", "quality": 0},
    ]
    assert backend.latest([]).num_rows == 0


def test_paging_over_very_uneven_density(backend: HistorianBackend) -> None:
    a, b = ids(backend, "dense", "sparse")
    dense = [T0 + i for i in range(500)]  # 500 points within a millisecond
    sparse = [T0 - 400 * 86_400 * S, T0 + 3 * S, T0 + 300 * 86_400 * S]
    write_points(backend, [a] * len(dense) + [b] * 3, dense + sparse, [1.0] * (len(dense) + 3))
    seen: list[int] = []
    after: Cursor | None = None
    while True:
        table, after = backend.read_raw(
            RawQuery((a, b), T0 - 500 * 86_400 * S, T0 + 400 * 86_400 * S, limit=64, after=after)
        )
        seen += [int(r["ts"]) for r in rows(table)]  # type: ignore[call-overload]
        if after is None:
            break
    assert seen == sorted(dense + sparse)

"""Time in state served from per-state rollups equals the raw answer (decision 0017).

Declared state signals (``track_states``) get per-state rollups, built from
raw when declared and kept up to date by every write: in-order appends that
reopen a minute or an hour, late points, replays. On irregular data with
gaps, the 1-minute tier, the 1-hour tier and raw points all give the
reference answer; undeclared signals are answered from raw in the same query.
"""

from __future__ import annotations

import random

import pytest

from omp.core.time import US_PER_DAY
from omp.historian.backend import HistorianBackend
from omp.historian.types import StateQuery, Tier
from tests.integration.historian import _reference
from tests.integration.historian._helpers import T0, H, M, S, ids, write_points
from tests.integration.historian.conftest import BackendFactory

Series = list[tuple[int, float]]


def _series(rng: random.Random) -> Series:
    """Irregular state changes: bursts seconds apart, pauses of minutes to 9 days."""
    t, points = T0 - US_PER_DAY + rng.randrange(H), []
    while t < T0 + 12 * US_PER_DAY:
        points.append((t, float(rng.randrange(0, 5))))
        t += rng.randrange(1, rng.choice([S, 7 * S, 50 * S, 13 * M, 5 * H, 9 * US_PER_DAY]) + 1)
    return points


def _write(backend: HistorianBackend, sid: int, points: Series) -> None:
    if points:
        write_points(backend, [sid] * len(points), [p[0] for p in points], [p[1] for p in points])


def _answers(backend: HistorianBackend, q: StateQuery) -> dict[Tier, dict[object, object]]:
    out = {}
    for tier in Tier:
        if tier is Tier.RAW or q.every % tier.width == 0:
            table = backend.state_durations(StateQuery(**{**_fields(q), "tier": tier}))
            out[tier] = {
                (r["signal_id"], r["bucket"], r["state"]): r["duration"] for r in table.to_pylist()
            }
    return out


def _fields(q: StateQuery) -> dict[str, object]:
    return {f: getattr(q, f) for f in ("signal_ids", "start", "end", "every", "now")}


def _check(backend: HistorianBackend, series: dict[int, Series]) -> None:
    now = T0 + 10 * US_PER_DAY + 17 * M + 5 * S
    for start, end, every in [
        (T0, T0 + 11 * US_PER_DAY, H),
        (T0 + 7 * M + 3, T0 + 9 * US_PER_DAY - 11 * S, 6 * H),
        (T0 - US_PER_DAY, T0 + 2 * US_PER_DAY + 30 * S, 15 * M),
        (T0 + 3 * H + 1, T0 + 4 * US_PER_DAY, US_PER_DAY),
    ]:
        q = StateQuery(tuple(series), start, end, every, now=now)
        want = _reference.state_durations(series, start=start, end=end, every=every, now=now)
        for tier, got in _answers(backend, q).items():
            assert got == want, (tier, start, end, every)


@pytest.mark.parametrize("seed", [3, 4])
def test_tiers_equal_raw_through_appends_late_points_and_replays(
    backend: HistorianBackend, seed: int
) -> None:
    rng = random.Random(seed)
    tracked_early, tracked_late, untracked = ids(backend, "s/early", "s/late", "s/free")
    series = {sid: _series(rng) for sid in (tracked_early, tracked_late, untracked)}
    assert backend.track_states([tracked_early]) == 1
    late: dict[int, Series] = {}
    for sid, points in series.items():
        held = set(rng.sample(range(len(points)), len(points) // 10))
        late[sid] = [p for i, p in enumerate(points) if i in held]
        on_time = [p for i, p in enumerate(points) if i not in held]
        cuts = sorted(rng.sample(range(1, len(on_time)), 6))
        for lo, hi in zip([0, *cuts], [*cuts, len(on_time)], strict=True):
            _write(backend, sid, on_time[lo:hi])  # flushes end mid-minute and mid-hour
    # Declared after its history: built from raw, then kept up by the writes below.
    assert backend.track_states([tracked_early, tracked_late]) == 1
    for sid, points in late.items():
        for lo in range(0, len(points), 7):
            _write(backend, sid, points[lo : lo + 7])
    replayed = series[tracked_late][len(series[tracked_late]) // 3 :][:500]
    _write(backend, tracked_late, replayed)
    _check(backend, series)


def test_declared_state_signals_persist_and_declaring_is_idempotent(
    backend_factory: BackendFactory,
) -> None:
    first = backend_factory()
    a, b = ids(first, "s/a", "s/b")
    points = [(T0 + i * 37 * S, float(i % 3)) for i in range(3000)]
    _write(first, a, points)
    assert first.track_states([a, a]) == 1
    assert first.track_states([a]) == 0
    first.close()
    second = backend_factory()
    try:
        assert second.track_states([a, b]) == 1
        _write(second, a, [(T0 + 2 * US_PER_DAY + 5 * S, 4.0)])
        _check(second, {a: [*points, (T0 + 2 * US_PER_DAY + 5 * S, 4.0)], b: []})
    finally:
        second.close()

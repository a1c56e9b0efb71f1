"""The writer's numpy partials agree with a direct computation, and merge exactly."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from omp.historian import numpy_partials as npp

W = 60


def _series(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    sid = np.repeat(np.array([1, 2], dtype=np.int32), 40)
    ts = np.concatenate([np.sort(rng.choice(300, 40, replace=False)) for _ in range(2)])
    value = rng.integers(0, 9, size=80).astype(np.float64)
    return sid, ts.astype(np.int64), value


def _direct(ts: np.ndarray, v: np.ndarray) -> dict[str, float]:
    steps = [b - a if b >= a else b for a, b in itertools.pairwise(v)]
    return {
        "n": len(v),
        "s": v.sum(),
        "m2": ((v - v.mean()) ** 2).sum(),
        "integ": float((v[:-1] * np.diff(ts)).sum()),
        "inc": float(sum(steps)),
    }


def test_partials_match_a_direct_computation() -> None:
    sid, ts, value = _series(3)
    got = npp.partials(sid, ts, value, width=W)
    for i in range(len(got["n"])):
        mask = (sid == got["signal_id"][i]) & (ts - ts % W == got["bucket"][i])
        want = _direct(ts[mask], value[mask])
        for name, expected in want.items():
            assert got[name][i] == pytest.approx(expected), name
        assert got["first_ts"][i] == ts[mask][0]
        assert got["last_v"][i] == value[mask][-1]


@pytest.mark.parametrize("cut", [1, 7, 20, 39])
def test_merging_two_consecutive_parts_equals_the_whole(cut: int) -> None:
    sid, ts, value = _series(cut)
    one = sid == 1
    ts, value, sid = ts[one], value[one], sid[one]
    width = 10**6  # a single bucket
    whole = npp.partials(sid, ts, value, width=width)
    merged = npp.merge_pairs(
        npp.partials(sid[:cut], ts[:cut], value[:cut], width=width),
        npp.partials(sid[cut:], ts[cut:], value[cut:], width=width),
    )
    for name in whole:
        assert merged[name] == pytest.approx(whole[name]), name

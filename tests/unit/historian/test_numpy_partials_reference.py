"""Batch partials computed with numpy against a point-by-point Python reference."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest

from omp.historian.numpy_partials import Columns, coarsen
from omp.historian.numpy_partials import partials as compute_partials
from omp.historian.partials import FIELDS

MINUTE = 60_000_000
HOUR = 60 * MINUTE


Rows = dict[tuple[int, int], dict[str, float]]


def _reference(points: list[tuple[int, int, float]], width: int) -> Rows:
    groups: dict[tuple[int, int], list[tuple[int, float]]] = {}
    for sid, ts, value in sorted(points):
        groups.setdefault((sid, ts - ts % width), []).append((ts, value))
    out = {}
    for key, pts in groups.items():
        values = [v for _, v in pts]
        mean = sum(values) / len(values)
        integ = sum(v * (pts[i + 1][0] - t) for i, (t, v) in enumerate(pts[:-1]))
        inc = 0.0
        for (_, prev), (_, cur) in itertools.pairwise(pts):
            inc += cur - prev if cur >= prev else cur
        out[key] = {
            "n": len(pts),
            "s": sum(values),
            "mn": min(values),
            "mx": max(values),
            "first_ts": pts[0][0],
            "first_v": pts[0][1],
            "last_ts": pts[-1][0],
            "last_v": pts[-1][1],
            "m2": sum((v - mean) ** 2 for v in values),
            "integ": integ,
            "inc": inc,
        }
    return out


def _as_dict(partials: Columns) -> Rows:
    return {
        (int(partials["signal_id"][i]), int(partials["bucket"][i])): {
            f: float(partials[f][i]) for f in FIELDS
        }
        for i in range(len(partials["signal_id"]))
    }


def _random_points(seed: int) -> list[tuple[int, int, float]]:
    rng = random.Random(seed)
    points = {}
    for sid in (1, 2, 7):
        t = 1_767_225_600_000_000 + rng.randrange(HOUR)
        for _ in range(400):
            t += rng.randrange(1, 40_000_000)
            points[(sid, t)] = float(rng.choice([rng.uniform(-5, 5), rng.randrange(0, 50)]))
    return [(sid, t, v) for (sid, t), v in points.items()]


def _arrays(points: list[tuple[int, int, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    points = sorted(points)
    return (
        np.array([p[0] for p in points], np.int32),
        np.array([p[1] for p in points], np.int64),
        np.array([p[2] for p in points], np.float64),
    )


def _assert_close(got: Rows, want: Rows) -> None:
    assert got.keys() == want.keys()
    for key in want:
        for field, value in want[key].items():
            assert math.isclose(got[key][field], value, rel_tol=1e-9, abs_tol=1e-6), (key, field)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("width", [MINUTE, HOUR])
def test_partials_match_the_reference(seed: int, width: int) -> None:
    points = _random_points(seed)
    _assert_close(
        _as_dict(compute_partials(*_arrays(points), width=width)), _reference(points, width)
    )


@pytest.mark.parametrize("seed", [4, 5])
def test_hours_coarsened_from_minutes_equal_hours_from_points(seed: int) -> None:
    sid, ts, value = _arrays(_random_points(seed))
    minutes = compute_partials(sid, ts, value, width=MINUTE)
    _assert_close(
        _as_dict(coarsen(minutes, width=HOUR)),
        _as_dict(compute_partials(sid, ts, value, width=HOUR)),
    )


def test_counter_reset_counts_the_new_value() -> None:
    sid = np.array([1, 1, 1, 1], np.int32)
    ts = np.array([0, 1, 2, 3], np.int64) * 1_000_000
    partials = compute_partials(sid, ts, np.array([5.0, 9.0, 2.0, 4.0]), width=MINUTE)
    assert partials["inc"].tolist() == [4.0 + 2.0 + 2.0]


def test_single_point_has_zero_spread_and_no_inner_integral() -> None:
    partials = compute_partials(
        np.array([3], np.int32), np.array([MINUTE + 5], np.int64), np.array([2.5]), width=MINUTE
    )
    assert (partials["bucket"].tolist(), partials["m2"].tolist(), partials["integ"].tolist()) == (
        [MINUTE],
        [0.0],
        [0.0],
    )


def test_empty_input_gives_no_rows() -> None:
    empty = compute_partials(
        np.array([], np.int32), np.array([], np.int64), np.array([], np.float64), width=MINUTE
    )
    assert len(empty["signal_id"]) == 0
    assert len(coarsen(empty, width=HOUR)["signal_id"]) == 0

"""Shared pieces of the benchmarks: realistic data, timing, and result records.

Every benchmark measures its reference (the raw engine doing the same work)
in the same run and reports the ratio, because these machines are small and
noisy: absolute figures drift, ratios hold.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from omp.core.batch import PointBatch

RESULTS = Path(__file__).parent / "results"
START_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
US = 1_000_000


def random_walk_batches(
    *,
    signals: int,
    seconds: int,
    batch_points: int,
    start_us: int = START_US,
    period_us: int = US,
    resolution: float = 0.01,
    seed: int = 7,
) -> Iterator[PointBatch]:
    """Realistic sensor data: each signal a slow random walk quantised to ``resolution``.

    Points arrive as a plant sends them: every period, one value per signal,
    signals interleaved; batches hold ``batch_points`` points (whole periods).
    """
    rng = np.random.default_rng(seed)
    level = rng.uniform(20.0, 80.0, signals)
    ids = np.arange(1, signals + 1, dtype=np.int32)
    periods_per_batch = max(1, batch_points // signals)
    for first in range(0, seconds, periods_per_batch):
        periods = min(periods_per_batch, seconds - first)
        steps = rng.normal(0.0, 0.05, (periods, signals))
        walk = level + np.cumsum(steps, axis=0)
        level = walk[-1]
        values = np.round(walk / resolution) * resolution
        ts = start_us + (first + np.arange(periods, dtype=np.int64)) * period_us
        yield PointBatch.of(
            np.tile(ids, periods),
            np.repeat(ts, signals),
            values.reshape(-1),
        )


def timed(fn: Callable[[], object], *, repeat: int = 3) -> tuple[float, list[float]]:
    """Median and all wall times of ``repeat`` calls."""
    times: list[float] = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def dir_size(path: Path) -> int:
    """Bytes used by a file or everything under a directory."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


@dataclass
class Result:
    """One benchmark figure with its same-run reference."""

    name: str
    value: float
    unit: str
    reference_name: str = ""
    reference_value: float = 0.0
    target: str = ""
    notes: dict[str, object] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return self.value / self.reference_value if self.reference_value else None


def report(bench: str, results: list[Result]) -> None:
    """Print a markdown table and save JSON under bench/results/."""
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    payload = {
        "bench": bench,
        "when": stamp,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "results": [asdict(r) | {"ratio": r.ratio} for r in results],
    }
    (RESULTS / f"{bench}-{stamp}.json").write_text(json.dumps(payload, indent=2))
    print(f"\n## {bench}\n")
    print("| measure | value | reference | ratio | target |")
    print("|---|---|---|---|---|")
    for r in results:
        ref = f"{r.reference_name}: {r.reference_value:,.3g} {r.unit}" if r.reference_name else ""
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else ""
        print(f"| {r.name} | {r.value:,.4g} {r.unit} | {ref} | {ratio} | {r.target} |")
    for r in results:
        if r.notes:
            print(
                f"\n{r.name}: "
                + ", ".join(
                    f"{k}={v:,.4g}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in r.notes.items()
                )
            )

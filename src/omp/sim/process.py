"""Process values of every machine at once: a first-order lag toward the state's level, plus noise.

Each float signal moves toward ``nominal`` while its machine produces and
toward ``idle`` otherwise, with a time constant of minutes for temperatures
and seconds for everything else. The kind's degrading signal is raised by
the machine's wear, growing with its square; the quality signal shows the
last part's measurement. The work is one set of numpy operations over an
(machines x 15) matrix per tick; noise comes from each machine's own stream,
drawn in blocks of ticks, so a machine's values do not depend on the others.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from omp.core.time import US_PER_SECOND, Micros
from omp.sim.catalog import MachineKind
from omp.sim.plant import Plant
from omp.sim.rng import Purpose, stream

FIRST_FLOAT = 5
"""Signals before this position are the common state, counters and texts; the rest are floats."""
_COMMON = ("state", "good_count", "scrap_count", "current_order", "product")
_BLOCK = 32
"""Ticks of noise drawn at once per machine."""
_SLOW_S = 300.0
"""Time constant of temperatures."""
_FAST_S = 3.0
"""Time constant of everything else."""

FloatMatrix = npt.NDArray[np.float64]


def check_layout(kind: MachineKind) -> None:
    """Refuse a kind whose signals the engine cannot lay out (common first, then floats)."""
    names = kind.signal_names[:FIRST_FLOAT]
    floats = kind.signals[FIRST_FLOAT:]
    if names != _COMMON or any(s.datatype != "float" for s in floats):
        raise ValueError(f"machine kind {kind.name!r}: signals must be {_COMMON} then floats")


class ProcessModel:
    """The float signals (``kind.signals[5:]``) of every machine of a plant."""

    def __init__(self, plant: Plant, *, seed: int) -> None:
        machines = plant.machines
        for kind in {m.kind.name: m.kind for m in machines}.values():
            check_layout(kind)
        rows = [m.kind.signals[FIRST_FLOAT:] for m in machines]
        self._nominal = np.array([[s.nominal for s in r] for r in rows], dtype=np.float64)
        self._idle = np.array([[s.idle for s in r] for r in rows], dtype=np.float64)
        self._noise = np.array([[s.noise for s in r] for r in rows], dtype=np.float64)
        tau = np.array([[_SLOW_S if s.unit == "Cel" else _FAST_S for s in r] for r in rows])
        self._tau = tau
        self._alpha = np.zeros_like(tau)
        self._alpha_tick: Micros = 0
        names = [m.kind.signal_names[FIRST_FLOAT:] for m in machines]
        self._rows = np.arange(len(machines))
        self._quality_col = np.array(
            [n.index(m.kind.quality) for n, m in zip(names, machines, strict=True)]
        )
        degrading = np.zeros_like(self._nominal)
        for i, (n, m) in enumerate(zip(names, machines, strict=True)):
            degrading[i, n.index(m.kind.degrading)] = 1.0
        self._wear_gain = degrading * self._noise
        self._level = self._idle.copy()
        self._generators = [
            stream(seed, Purpose.NOISE, f"{plant.enterprise}/{m.path}") for m in machines
        ]
        self._draws = np.empty((len(machines), _BLOCK, self._nominal.shape[1]))
        self._next = _BLOCK

    def update(
        self, tick: Micros, producing: Sequence[bool], wear: Sequence[float],
        quality: Sequence[float], wear_gain: float,
    ) -> list[list[float]]:  # fmt: skip
        """Advance one tick of ``tick`` µs; each machine's float values, in signal order."""
        if tick != self._alpha_tick:
            self._alpha = 1.0 - np.exp(-(tick / US_PER_SECOND) / self._tau)
            self._alpha_tick = tick
        running = np.fromiter(producing, dtype=bool, count=len(self._rows))
        target = np.where(running[:, None], self._nominal, self._idle)
        worn = np.fromiter(wear, dtype=np.float64, count=len(self._rows))
        target += self._wear_gain * (wear_gain * np.minimum(worn, 1.0) ** 2 * running)[:, None]
        self._level += (target - self._level) * self._alpha
        values = self._level + self._noise * self._noise_draws()
        values[self._rows, self._quality_col] = np.fromiter(
            quality, dtype=np.float64, count=len(self._rows)
        )
        result: list[list[float]] = values.tolist()
        return result

    def _noise_draws(self) -> FloatMatrix:
        if self._next == _BLOCK:
            shape = self._draws.shape[1:]
            for i, generator in enumerate(self._generators):
                self._draws[i] = generator.standard_normal(shape)
            self._next = 0
        draws: FloatMatrix = self._draws[:, self._next, :]
        self._next += 1
        return draws

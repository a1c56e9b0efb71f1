"""Random streams keyed by what they drive, so a run is reproducible from one seed.

Every stream is derived from ``SeedSequence(seed, spawn_key=key)`` where the
key names the machine or line by a stable digest of its path, never by
Python's ``hash()`` (salted per process) and never by wall time. Adding
machines to a plant therefore leaves every existing machine's stream as it
was, and machines draw from their own streams only.

>>> a = RandomStream(stream(7, Purpose.MACHINE, "acme/munich/x"))
>>> b = RandomStream(stream(7, Purpose.MACHINE, "acme/munich/x"))
>>> a.normal() == b.normal()
True
"""

from __future__ import annotations

import hashlib
import math
from enum import IntEnum

import numpy as np

_BLOCK = 512
"""Draws fetched from numpy at once: one call per block keeps per-draw cost to a list pop."""


class Purpose(IntEnum):
    """What a stream drives; part of its key so two purposes never share numbers."""

    MACHINE = 1
    """Behaviour: cycle times, failures, repairs, quality, counter resets."""
    NOISE = 2
    """Process-value noise (drawn in blocks by ``omp.sim.process``)."""
    ORDERS = 3
    """A line's order stream."""


def path_key(path: str) -> int:
    """A stable 64-bit key of a path (blake2b), the same in every process and release."""
    return int.from_bytes(hashlib.blake2b(path.encode(), digest_size=8).digest(), "big")


def stream(seed: int, purpose: Purpose, path: str) -> np.random.Generator:
    """The generator for ``purpose`` of the asset at ``path`` in a run seeded with ``seed``."""
    sequence = np.random.SeedSequence(seed, spawn_key=(int(purpose), path_key(path)))
    return np.random.Generator(np.random.PCG64(sequence))


class RandomStream:
    """Scalar draws from a generator, fetched in blocks (numpy's per-call cost dominates)."""

    __slots__ = ("_generator", "_normals", "_uniforms")

    def __init__(self, generator: np.random.Generator) -> None:
        self._generator = generator
        self._uniforms: list[float] = []
        self._normals: list[float] = []

    def uniform(self, low: float = 0.0, high: float = 1.0) -> float:
        """A draw from [low, high)."""
        if not self._uniforms:
            self._uniforms = self._generator.random(_BLOCK).tolist()
        return low + (high - low) * self._uniforms.pop()

    def normal(self) -> float:
        """A standard normal draw."""
        if not self._normals:
            self._normals = self._generator.standard_normal(_BLOCK).tolist()
        return self._normals.pop()

    def exponential(self, mean: float) -> float:
        """An exponential draw with the given mean (``inf`` when the mean is)."""
        if math.isinf(mean):
            return math.inf
        return -mean * math.log(1.0 - self.uniform())

    def choice(self, weights: list[float]) -> int:
        """An index drawn with probability proportional to ``weights``."""
        pick = self.uniform(0.0, sum(weights))
        for index, weight in enumerate(weights):
            pick -= weight
            if pick < 0.0:
                return index
        return len(weights) - 1

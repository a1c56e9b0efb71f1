"""Exponential backoff with full jitter, for reconnecting to devices and brokers.

Full jitter (a random wait between 0 and the current ceiling) keeps a plant
full of clients from reconnecting in lockstep after a broker restart.

>>> backoff = Backoff(initial=1.0, maximum=8.0, random=lambda: 1.0)
>>> [backoff.next_delay() for _ in range(5)]
[1.0, 2.0, 4.0, 8.0, 8.0]
>>> backoff.reset(); backoff.next_delay()
1.0
"""

from __future__ import annotations

import random as _random
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class Backoff:
    """Delays grow ``factor`` times per failure up to ``maximum``; ``reset`` after success."""

    initial: float = 0.5
    maximum: float = 30.0
    factor: float = 2.0
    random: Callable[[], float] = field(default=_random.random)
    _ceiling: float = 0.0

    def next_delay(self) -> float:
        """Seconds to wait before the next attempt: uniform in (0, ceiling]."""
        self._ceiling = (
            self.initial if self._ceiling == 0 else min(self.maximum, self._ceiling * self.factor)
        )
        return max(self._ceiling * self.random(), self.initial / 10)

    def reset(self) -> None:
        self._ceiling = 0.0

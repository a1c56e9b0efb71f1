"""SQL fragments shared by the read and rollup modules.

``points.ts`` is ``timestamptz``; everything else counts Unix microseconds in
int8. ``US`` and ``TS`` convert between the two exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import sql

from omp.core.time import to_datetime
from omp.historian.backends.postgres.copy_binary import TS_MIN_US

TS_MAX_US = 2**62
"""Query bounds are clamped to this; far beyond any stored point, safely inside interval math."""


def us(expression: str) -> str:
    """SQL turning a timestamptz expression into int8 Unix microseconds, exactly."""
    return f"(extract(epoch FROM {expression}) * 1000000)::int8"


def ts(expression: str) -> str:
    """SQL turning an int8 Unix microsecond expression into timestamptz."""
    return f"('epoch'::timestamptz + ({expression}) * interval '1 microsecond')"


def clamp(micros: int) -> int:
    """A query bound clamped into what timestamptz arithmetic accepts."""
    return max(TS_MIN_US, min(TS_MAX_US, micros))


def ts_literal(micros: int) -> str:
    """A timestamptz constant for ``micros``, foldable at plan time (partition pruning).

    >>> ts_literal(0)
    "'1970-01-01T00:00:00+00:00'::timestamptz"
    """
    micros = clamp(micros)
    if _DATETIME_MIN_US <= micros <= _DATETIME_MAX_US:
        return f"'{to_datetime(micros).isoformat()}'::timestamptz"
    return ts(str(micros))


_DATETIME_MIN_US = -62_135_596_800_000_000  # 0001-01-01
_DATETIME_MAX_US = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999


class Names:
    """Quoted, schema-qualified names of one historian's tables, ready to splice into SQL."""

    def __init__(self, schema: str) -> None:
        self.schema = schema
        self.points = self._q("points")
        self.text_points = self._q("text_points")
        self.signals = self._q("signals")
        self.events = self._q("events")
        self.meta = self._q("meta")
        self.latest = self._q("latest")
        self.rollup = {"1m": self._q("rollup_1m"), "1h": self._q("rollup_1h")}
        self.state_signals = self._q("state_signals")
        self.states = {"1m": self._q("state_1m"), "1h": self._q("state_1h")}
        """Per-state rollups of declared state signals (decision 0017)."""

    def _q(self, name: str) -> str:
        return sql.Identifier(self.schema, name).as_string()


def id_list(signal_ids: Sequence[int]) -> str:
    """A SQL ``IN`` list of integer ids; callers never pass an empty sequence."""
    return ", ".join(str(int(i)) for i in signal_ids)


def query(text: str) -> sql.SQL:
    """Wrap SQL text built by this package (ints and quoted identifiers only).

    psycopg asks for a ``LiteralString`` to keep user text out of SQL; the text
    here is assembled from ints and ``sql.Identifier``-quoted names, never
    from caller strings.
    """
    return sql.SQL(text)

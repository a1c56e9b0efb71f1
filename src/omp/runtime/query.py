"""The read side: resolve paths and globs through the Registry, ask the historian,
return results with paths attached.

This is what the CLI (on a stopped instance) and the read API (on a running
one) both call, so the two ways of querying give the same answers.

>>> parse_aggs("avg,max")
(<Agg.AVG: 'avg'>, <Agg.MAX: 'max'>)
>>> decode_cursor(encode_cursor(Cursor(ts=5, signal_id=7)))
Cursor(ts=5, signal_id=7)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import pyarrow as pa

from omp.core.errors import OmpError
from omp.core.time import Clock, Micros, system_clock
from omp.historian.types import Agg, AggregateQuery, Cursor, RawQuery, StateQuery
from omp.runtime.results import present_aggregate, present_raw, present_states

DEFAULT_PAGE = 10_000
MAX_PAGE = 1_000_000
TIME_IN_STATE = "time_in_state"
"""The aggregate name that asks for time spent in each state (state signals only)."""
MAX_BUCKETS = 5_000_000
"""The most (signal, bucket) cells one aggregate query may ask for; protects the server."""


class QueryError(OmpError, ValueError):
    """A query is malformed (range, aggregate, cursor, limit); the message says which part."""


class SignalView(Protocol):
    """What a query needs to know of one signal."""

    @property
    def id(self) -> int: ...
    @property
    def path(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def unit(self) -> str | None: ...
    @property
    def datatype(self) -> str: ...
    @property
    def states(self) -> Mapping[int, str]: ...


class SignalResolver(Protocol):
    """Turns a path or glob into signals (the Registry).

    ``match`` raises ``UnknownSignalError`` naming the pattern when nothing matches.
    """

    @property
    def version(self) -> str: ...
    def match(self, pattern: str) -> Sequence[SignalView]: ...


class HistorianReads(Protocol):
    """The read side of the historian service (it plans rollup tiers itself)."""

    def read_raw(self, query: RawQuery) -> tuple[pa.Table, Cursor | None]: ...
    def aggregate(self, query: AggregateQuery) -> pa.Table: ...
    def latest(self, signal_ids: Sequence[int]) -> pa.Table: ...
    def state_durations(self, query: StateQuery) -> pa.Table: ...


@dataclass(frozen=True, slots=True)
class Page:
    """One page of raw points and the opaque cursor of the next (``None`` at the end)."""

    table: pa.Table
    next_cursor: str | None


def encode_cursor(cursor: Cursor) -> str:
    return f"{cursor.ts}:{cursor.signal_id}"


def decode_cursor(token: str) -> Cursor:
    try:
        ts, signal_id = token.split(":")
        return Cursor(ts=int(ts), signal_id=int(signal_id))
    except ValueError:
        raise QueryError(f"cursor {token!r} is not one this service handed out") from None


def parse_aggs(text: str) -> tuple[Agg, ...]:
    """``avg,min,max`` -> aggregates; ``QueryError`` naming the unknown one."""
    aggs: list[Agg] = []
    for name in (part.strip().lower() for part in text.split(",")):
        try:
            aggs.append(Agg(name))
        except ValueError:
            known = ", ".join(a.value for a in Agg)
            raise QueryError(f"aggregate {name!r} is unknown; use one of {known}") from None
    if not aggs:
        raise QueryError("no aggregate given")
    return tuple(dict.fromkeys(aggs))


def _check_range(start: Micros, end: Micros) -> None:
    if end <= start:
        raise QueryError("the time range is empty: --to must be later than --from")


def _check_limit(limit: int) -> None:
    if not 0 < limit <= MAX_PAGE:
        raise QueryError(f"limit {limit} is out of range; use 1 to {MAX_PAGE}")


def _check_cells(signals: int, start: Micros, end: Micros, every: Micros) -> None:
    buckets = -(-(end - start) // every)
    if signals * buckets > MAX_BUCKETS:
        raise QueryError(
            f"{signals} signals x {buckets} buckets is more than {MAX_BUCKETS} cells; "
            "use a wider bucket (every) or a shorter range"
        )


class QueryService:
    """Read queries by path or glob. Thread-safe as far as the historian's reads are."""

    def __init__(
        self, resolver: SignalResolver, reads: HistorianReads, *, clock: Clock = system_clock
    ) -> None:
        self._resolver = resolver
        self._reads = reads
        self._clock = clock

    @property
    def model_version(self) -> str:
        return self._resolver.version

    def signals(self, pattern: str = "**") -> list[SignalView]:
        """The signals a pattern matches, in path order."""
        return sorted(self._resolver.match(pattern), key=lambda s: s.path)

    def raw(
        self,
        pattern: str,
        *,
        start: Micros,
        end: Micros,
        limit: int = DEFAULT_PAGE,
        cursor: str | None = None,
    ) -> Page:
        """One page of raw points of the matched signals, ordered by time."""
        _check_range(start, end)
        _check_limit(limit)
        signals = self.signals(pattern)
        after = decode_cursor(cursor) if cursor else None
        query = RawQuery(tuple(s.id for s in signals), start, end, limit=limit, after=after)
        table, following = self._reads.read_raw(query)
        paths = {s.id: s.path for s in signals}
        token = encode_cursor(following) if following is not None else None
        return Page(present_raw(table, paths), token)

    def aggregate(
        self, pattern: str, *, start: Micros, end: Micros, every: Micros, aggs: Sequence[Agg]
    ) -> pa.Table:
        """Time-bucket aggregates of the matched numeric signals (text signals are left out)."""
        _check_range(start, end)
        signals = [s for s in self.signals(pattern) if s.datatype != "string"]
        if not signals:
            raise QueryError(f"pattern {pattern!r} matches only text signals (no aggregates)")
        _check_cells(len(signals), start, end, every)
        query = AggregateQuery(tuple(s.id for s in signals), start, end, every, tuple(aggs))
        table = self._reads.aggregate(query)
        return present_aggregate(table, {s.id: s.path for s in signals}, tuple(aggs))

    def buckets(
        self, pattern: str, *, start: Micros, end: Micros, every: Micros, agg: str
    ) -> pa.Table:
        """Aggregates named in ``agg`` (``avg,max``), or ``time_in_state`` alone."""
        names = [name.strip().lower() for name in agg.split(",")]
        if TIME_IN_STATE not in names:
            return self.aggregate(pattern, start=start, end=end, every=every, aggs=parse_aggs(agg))
        if len(names) > 1:
            raise QueryError(f"{TIME_IN_STATE} cannot be combined with other aggregates")
        return self.time_in_state(pattern, start=start, end=end, every=every)

    def time_in_state(self, pattern: str, *, start: Micros, end: Micros, every: Micros) -> pa.Table:
        """Seconds each matched state signal spent in each state, per bucket."""
        _check_range(start, end)
        signals = [s for s in self.signals(pattern) if s.kind == "state"]
        if not signals:
            raise QueryError(f"pattern {pattern!r} matches no state signal")
        _check_cells(len(signals), start, end, every)
        query = StateQuery(tuple(s.id for s in signals), start, end, every, now=self._clock())
        table = self._reads.state_durations(query)
        labels = {(s.id, code): label for s in signals for code, label in s.states.items()}
        return present_states(table, {s.id: s.path for s in signals}, labels)

    def latest(self, pattern: str) -> pa.Table:
        """The newest point of each matched signal that has one."""
        signals = self.signals(pattern)
        table = self._reads.latest([s.id for s in signals])
        return present_raw(table, {s.id: s.path for s in signals})

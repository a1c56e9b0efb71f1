"""Events: identity (asset, kind, name, ts); a rewrite replaces; reads by range, prefix, kind."""

from __future__ import annotations

from omp.core.batch import PointBatch
from omp.core.events import Event, EventKind
from omp.historian.backend import HistorianBackend
from omp.historian.types import EventQuery
from tests.integration.historian._helpers import T0, S
from tests.integration.historian.conftest import BackendFactory

MILL = "acme/munich/body/line_1/cell_a/mill_01"
PRESS = "acme/munich/body/line_1/cell_b/press_01"


def _write(backend: HistorianBackend, events: list[Event]) -> int:
    return backend.write(PointBatch.empty(), None, events).events


def test_events_round_trip_in_time_order(backend_factory: BackendFactory) -> None:
    backend = backend_factory()
    stop = Event(T0 + S, MILL, EventKind.STATE_CHANGE, "3", state="stopped", reason="tool change")
    order = Event(
        T0, MILL, EventKind.ORDER, "PO-1", end_ts=T0 + 60 * S, attributes={"qty": 40, "sku": "B"}
    )
    assert _write(backend, [stop, order]) == 2
    backend.close()
    reopened = backend_factory()
    assert reopened.read_events(EventQuery(T0, T0 + 10 * S)) == [order, stop]
    reopened.close()


def test_rewriting_an_identity_replaces_it(backend: HistorianBackend) -> None:
    started = Event(T0, MILL, EventKind.ORDER, "PO-7", attributes={"qty": 10})
    _write(backend, [started])
    done = Event(T0, MILL, EventKind.ORDER, "PO-7", end_ts=T0 + 90 * S, attributes={"qty": 10})
    _write(backend, [done, done])
    other = Event(T0, MILL, EventKind.ALARM, "PO-7", state="active")
    _write(backend, [other])
    got = backend.read_events(EventQuery(T0, T0 + S))
    assert sorted(got, key=lambda e: e.kind) == [other, done]


def test_later_duplicate_in_one_write_wins(backend: HistorianBackend) -> None:
    a = Event(T0, MILL, EventKind.ALARM, "overtemp", state="active")
    b = Event(T0, MILL, EventKind.ALARM, "overtemp", state="acknowledged")
    _write(backend, [a, b])
    assert backend.read_events(EventQuery(T0, T0 + S)) == [b]


def test_filters_by_range_prefix_and_kind(backend: HistorianBackend) -> None:
    evs = [
        Event(T0, MILL, EventKind.ALARM, "a1", state="active"),
        Event(T0 + S, PRESS, EventKind.ALARM, "a2", state="active"),
        Event(T0 + 2 * S, MILL, EventKind.SHIFT, "early", end_ts=T0 + 8 * 3600 * S),
        Event(T0 + 3 * S, MILL + "_spare", EventKind.ALARM, "a3", state="active"),
        Event(T0 + 10 * S, MILL, EventKind.ALARM, "late", state="active"),
    ]
    _write(backend, evs)
    in_range = backend.read_events(EventQuery(T0, T0 + 10 * S))
    assert [e.name for e in in_range] == ["a1", "a2", "early", "a3"]
    cell_a = backend.read_events(EventQuery(T0, T0 + 10 * S, asset_prefix=MILL))
    assert [e.name for e in cell_a] == ["a1", "early"]
    line = backend.read_events(EventQuery(T0, T0 + 10 * S, asset_prefix="acme/munich/body/line_1/"))
    assert len(line) == 4
    alarms = backend.read_events(
        EventQuery(T0, T0 + 11 * S, asset_prefix=MILL, kinds=(EventKind.ALARM,))
    )
    assert [e.name for e in alarms] == ["a1", "late"]
    limited = backend.read_events(EventQuery(T0, T0 + 11 * S, limit=2))
    assert [e.name for e in limited] == ["a1", "a2"]

"""HistoryWriter: frames into a point sink by signal id, thinned as a plant's history is."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pytest

from omp.core.batch import PointBatch, SourceBatch, TextBatch
from omp.core.events import Event, EventKind
from omp.core.time import US_PER_SECOND
from omp.model import compile_model, parse_model
from omp.sim.frame import Frame, Value
from omp.sim.history import HistoryWriter
from omp.sim.model import demo_model
from omp.sim.plant import Plant, build_plant


class Ids:
    def ensure_ids(self, paths: Sequence[str]) -> Mapping[str, int]:
        return {p: i + 1 for i, p in enumerate(sorted(paths))}


class Sink:
    def __init__(self) -> None:
        self.points: list[PointBatch] = []
        self.texts: list[TextBatch] = []
        self.events: list[Event] = []

    def submit(self, batch: SourceBatch | PointBatch | TextBatch) -> object:
        if isinstance(batch, TextBatch):
            self.texts.append(batch)
        else:
            assert isinstance(batch, PointBatch)
            self.points.append(batch)
        return None

    def submit_events(self, events: Sequence[Event]) -> None:
        self.events.extend(events)


def rows(plant: Plant, tick: int) -> list[list[Value]]:
    """Frame values: state changes at tick 3, counters count ticks, text changes at tick 5."""
    out: list[list[Value]] = []
    for machine in plant.machines:
        row: list[Value] = []
        for signal in machine.kind.signals:
            if signal.name == "state":
                row.append(1 if tick >= 3 else 0)
            elif signal.kind.value == "counter":
                row.append(tick)
            elif signal.kind.value == "text":
                row.append("order-2" if tick >= 5 else "order-1")
            else:
                row.append(signal.nominal + tick)
        out.append(row)
    return out


@pytest.fixture
def plant() -> Plant:
    return build_plant(26)


@pytest.fixture
def ids(plant: Plant) -> dict[str, int]:
    return compile_model(parse_model(demo_model(plant, [])), ids=Ids()).ids


def test_exact_signals_on_change_measurements_on_the_sample_grid(
    plant: Plant, ids: dict[str, int]
) -> None:
    sink = Sink()
    writer = HistoryWriter(plant, ids, sink, sample=2 * US_PER_SECOND)
    for tick in range(1, 7):
        writer.add(Frame(ts=tick * US_PER_SECOND, values=rows(plant, tick)))
    writer.flush()
    points = sink.points[0]
    press = plant.machines[0]
    prefix = f"acme/{press.path}/"

    def series(name: str) -> list[tuple[int, float]]:
        mask = points.signal_id == ids[prefix + name]
        return list(zip(points.ts[mask].tolist(), points.value[mask].tolist(), strict=True))

    s = US_PER_SECOND
    assert series("state") == [(1 * s, 0.0), (3 * s, 1.0)]
    assert series("good_count") == [(t * s, float(t)) for t in range(1, 7)]
    assert series("oil_temp") == [(t * s, 48.0 + t) for t in (2, 4, 6)]
    texts = sink.texts[0]
    mask = texts.signal_id == ids[prefix + "current_order"]
    assert texts.value.filter(mask).to_pylist() == ["order-1", "order-2"]
    assert texts.ts[mask].tolist() == [1 * s, 5 * s]
    assert writer.points == len(points) + len(texts)


def test_events_pass_through_in_order(plant: Plant, ids: dict[str, int]) -> None:
    sink = Sink()
    writer = HistoryWriter(plant, ids, sink)
    asset = f"acme/{plant.machines[0].path}"
    events = [
        Event(ts=t, asset=asset, kind=EventKind.STATE_CHANGE, name="down", reason="die_crack")
        for t in (1, 2)
    ]
    writer.add(Frame(ts=US_PER_SECOND, values=rows(plant, 1), events=events))
    writer.flush()
    assert sink.events == events
    assert writer.events == 2


def test_flushes_by_itself_when_the_batch_is_full(plant: Plant, ids: dict[str, int]) -> None:
    sink = Sink()
    writer = HistoryWriter(plant, ids, sink, batch_points=100)
    writer.add(Frame(ts=10 * US_PER_SECOND, values=rows(plant, 1)))
    assert sink.points, "a frame of 26 machines x 20 signals exceeds 100 points"
    assert np.all(sink.points[0].ts == 10 * US_PER_SECOND)


def test_a_model_without_the_plant_s_signals_is_refused_by_path(plant: Plant) -> None:
    with pytest.raises(KeyError, match=r"acme/munich/body_shop/press_01/cell_01/press_01/state"):
        HistoryWriter(plant, {}, Sink())

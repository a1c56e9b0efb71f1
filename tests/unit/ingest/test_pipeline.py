from __future__ import annotations

import threading

import numpy as np
import pyarrow as pa
import pytest

from omp.bus import Bus
from omp.core.batch import PointBatch, SourceBatch, TextBatch
from omp.core.errors import BackpressureError
from omp.core.events import Event, EventKind
from omp.core.rejects import RejectReason
from omp.ingest import Ingest
from omp.model import Registry
from tests.unit.ingest.fakes import MODEL, PREFIX, RecordingHistorian, make_registry
from tests.unit.model.conftest import DictIds

NOW = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z


REGISTRY = make_registry()


def sid(name: str, registry: Registry = REGISTRY) -> int:
    return registry.signal(PREFIX + name).id


TEMP, PRESSURE, PARTS, DOOR, ORDER = (
    sid(n) for n in ("temp", "pressure", "parts", "door", "order")
)


def make_ingest(
    historian: RecordingHistorian | None = None, bus: Bus | None = None
) -> tuple[Ingest, RecordingHistorian]:
    sink = historian or RecordingHistorian()
    return Ingest(REGISTRY, historian=sink, bus=bus or Bus(), clock=lambda: NOW), sink


def test_one_bad_point_never_rejects_its_neighbours() -> None:
    ingest, sink = make_ingest()
    batch = PointBatch.of(
        [TEMP, TEMP, 9999, PARTS, PARTS, DOOR, DOOR, ORDER, TEMP, TEMP],
        [NOW, NOW, NOW, NOW, NOW, NOW, NOW, NOW, -5, NOW + 3_600_000_000],
        [20.0, np.nan, 1.0, 3.0, 2.5, 1.0, 2.0, 1.0, 20.0, 20.0],
    )
    report = ingest.submit(batch)
    assert report.accepted == 3
    assert list(report.rejected_rows) == [1, 2, 4, 6, 7, 8, 9]
    assert report.counts() == {
        RejectReason.NOT_FINITE: 1,
        RejectReason.UNKNOWN_SIGNAL: 1,
        RejectReason.WRONG_TYPE: 3,
        RejectReason.BEFORE_1970: 1,
        RejectReason.FUTURE_TIMESTAMP: 1,
    }
    stored = sink.batches[0]
    assert isinstance(stored, PointBatch)
    assert list(stored.signal_id) == [TEMP, PARTS, DOOR]
    assert ingest.stats().accepted == 3
    assert ingest.stats().rejected[RejectReason.WRONG_TYPE] == 3


def test_source_batch_resolves_bindings_and_converts_units() -> None:
    ingest, sink = make_ingest()
    addresses = ["ns=2;s=T1", "ns=2;s=P1", "ns=2;s=N1", "ghost"]
    batch = SourceBatch.of("plc", addresses, [0, 1, 2, 3, 0], [NOW] * 5, [212.0, 1.0, 7, 5, 32.0])
    report = ingest.submit(batch)
    assert report.accepted == 4
    assert report.counts() == {RejectReason.UNKNOWN_SIGNAL: 1}
    stored = sink.batches[0]
    assert isinstance(stored, PointBatch)
    assert list(stored.signal_id) == [TEMP, PRESSURE, PARTS, TEMP]
    np.testing.assert_allclose(stored.value, [100.0, 100.0, 7.0, 0.0], atol=1e-9)
    assert ingest.stats().unmapped == {("plc", "ghost"): 1}


def test_binding_scale_applies_before_storage() -> None:
    ingest, sink = make_ingest()
    report = ingest.submit(SourceBatch.of("regs", ["input:30001:int16"], [0], [NOW], [215.0]))
    assert report.accepted == 1
    stored = sink.batches[0]
    assert isinstance(stored, PointBatch)
    assert stored.signal_id.tolist() == [REGISTRY.signal("acme/s1/a/l/c/oven_2/temp").id]
    np.testing.assert_allclose(stored.value, [21.5])


def test_unit_reported_at_runtime_overrides_binding_and_bad_unit_is_rejected() -> None:
    ingest, sink = make_ingest()
    batch = SourceBatch.of(
        "plc", ["ns=2;s=T1", "ns=2;s=P1"], [0, 1], [NOW, NOW], [50.0, 3.0], units=["Cel", "Cel"]
    )
    report = ingest.submit(batch)
    assert report.accepted == 1
    assert report.counts() == {RejectReason.INCOMPATIBLE_UNIT: 1}
    stored = sink.batches[0]
    assert isinstance(stored, PointBatch)
    assert stored.value.tolist() == [50.0]


def test_text_batch_only_for_text_signals() -> None:
    ingest, sink = make_ingest()
    batch = TextBatch.of([ORDER, TEMP, ORDER], [NOW] * 3, pa.array(["ORD-1", "x", None]))
    report = ingest.submit(batch)
    assert report.accepted == 1
    assert report.counts() == {RejectReason.WRONG_TYPE: 2}
    assert isinstance(sink.batches[0], TextBatch)
    assert sink.batches[0].value.to_pylist() == ["ORD-1"]


def test_text_from_a_source() -> None:
    ingest, sink = make_ingest()
    batch = SourceBatch.of("plc", ["ns=2;s=S1"], [0], [NOW], pa.array(["ORD-7"]))
    assert ingest.submit(batch).accepted == 1
    assert isinstance(sink.batches[0], TextBatch)
    assert sink.batches[0].signal_id.tolist() == [ORDER]


def test_backpressure_raises_and_accepts_nothing_of_that_batch() -> None:
    bus = Bus()
    ingest, _ = make_ingest(RecordingHistorian(capacity=1), bus)
    seen: list[int] = []
    bus.subscribe("probe", on_batch=lambda b: seen.append(len(b)))
    ingest.submit(PointBatch.of([TEMP], [NOW], [1.0]))
    with pytest.raises(BackpressureError):
        ingest.submit(PointBatch.of([TEMP, TEMP], [NOW + 1, NOW + 2], [1.0, 2.0]), timeout=0.01)
    assert seen == [1]  # the refused batch never reached live consumers
    assert ingest.stats().accepted == 1


def test_accepted_points_are_copied_so_reused_buffers_cannot_rewrite_them() -> None:
    bus = Bus()
    ingest, sink = make_ingest(bus=bus)
    seen: list[PointBatch | TextBatch] = []
    bus.subscribe("probe", on_batch=seen.append)
    ts = np.array([NOW, NOW], dtype=np.int64)
    values = np.array([1.0, 2.0])
    ingest.submit(SourceBatch.of("plc", ["ns=2;s=N1"], [0, 0], ts, values))
    ts[0], values[0] = 0, 99.0  # the connector reuses its buffers for the next read
    stored = sink.batches[0]
    assert isinstance(stored, PointBatch)
    assert stored.ts.tolist() == [NOW, NOW]
    assert stored.value.tolist() == [1.0, 2.0]
    assert seen == [stored]


def test_quality_codes_outside_good_uncertain_bad_are_rejected() -> None:
    ingest, sink = make_ingest()
    batch = PointBatch.of([TEMP, TEMP, TEMP], [NOW, NOW + 1, NOW + 2], [1.0, 2.0, 3.0], [0, 7, 2])
    report = ingest.submit(batch)
    assert report.counts() == {RejectReason.INVALID_QUALITY: 1}
    assert sink.batches[0].quality.tolist() == [0, 2]


def test_many_unbound_addresses_are_counted_per_address() -> None:
    ingest, _ = make_ingest()
    addresses = [f"ghost{i}" for i in range(500)] + ["ns=2;s=N1"]
    index = np.arange(5010, dtype=np.int32) % 501
    report = ingest.submit(
        SourceBatch.of("plc", addresses, index, np.full(5010, NOW), np.ones(5010))
    )
    assert report.accepted == 10
    assert report.counts() == {RejectReason.UNKNOWN_SIGNAL: 5000}
    unmapped = ingest.stats().unmapped
    assert len(unmapped) == 500
    assert set(unmapped.values()) == {10}


def test_model_swap_changes_resolution() -> None:
    ids = DictIds()
    ingest = Ingest(make_registry(ids=ids), historian=RecordingHistorian(), bus=Bus())
    ghost = SourceBatch.of("plc", ["ns=2;s=T9"], [0], [NOW], [4.0])
    assert ingest.submit(ghost).accepted == 0
    edited = MODEL.replace('parts: "ns=2;s=N1"', 'parts: "ns=2;s=T9"')
    ingest.use_registry(make_registry(edited, ids))
    assert ingest.submit(ghost).accepted == 1
    assert ingest.stats().model_version != REGISTRY.version


def test_concurrent_submits_are_counted_exactly() -> None:
    ingest, _ = make_ingest()

    def worker() -> None:
        for i in range(200):
            ingest.submit(PointBatch.of([TEMP, 9999], [NOW - i, NOW - i], [1.0, 1.0]))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats = ingest.stats()
    assert stats.accepted == 800
    assert stats.rejected == {RejectReason.UNKNOWN_SIGNAL: 800}


def test_events_are_stored_and_published() -> None:
    bus = Bus()
    ingest, sink = make_ingest(bus=bus)
    seen: list[Event] = []
    bus.subscribe("probe", on_events=seen.extend)
    event = Event(NOW, "acme/s/a/l/c/m", EventKind.STATE_CHANGE, "2", state="down", reason="jam")
    ingest.submit_events([event])
    assert sink.events == [event]
    assert seen == [event]

from __future__ import annotations

import numpy as np

from omp.bus import Bus
from omp.core.batch import SourceBatch
from omp.core.rejects import RejectReason
from omp.ingest import Ingest
from tests.unit.ingest.fakes import MODEL, RecordingHistorian, make_registry

NOW = 1_767_225_600_000_000
RULED = MODEL.replace(
    "  regs: {protocol: modbus, host: 127.0.0.1}",
    "  regs: {protocol: modbus, host: 127.0.0.1}\n"
    "  feed:\n    protocol: mqtt\n    map:\n"
    '      - {source: "plant/{eq}/{signal}", signal: "acme/s1/a/l/c/{eq}/{signal}"}',
)


def test_mapping_rules_bind_addresses_and_convert_reported_units() -> None:
    registry = make_registry(RULED)
    historian = RecordingHistorian()
    ingest = Ingest(registry, historian=historian, bus=Bus(), clock=lambda: NOW)
    batch = SourceBatch.of(
        "feed",
        ["plant/oven_2/pressure", "plant/oven_2/mystery"],
        [0, 0, 1],
        [NOW - 2, NOW - 1, NOW - 1],
        [1.0, 2.0, 3.0],
        units=["bar", None],
    )
    report = ingest.submit(batch)
    assert report.accepted == 2
    stored = historian.batches[0]
    assert stored.signal_id.tolist() == [registry.signal("acme/s1/a/l/c/oven_2/pressure").id] * 2
    assert stored.value.tolist() == [100.0, 200.0]  # bar -> kPa
    assert ingest.stats().unmapped == {("feed", "plant/oven_2/mystery"): 1}


def test_binding_the_unmapped_address_by_a_model_reload_needs_no_restart() -> None:
    ingest = Ingest(
        make_registry(MODEL), historian=RecordingHistorian(), bus=Bus(), clock=lambda: NOW
    )
    batch = SourceBatch.of("feed", ["plant/oven_2/temp"], [0], [NOW - 1], [20.0])
    assert ingest.submit(batch).accepted == 0
    ingest.use_registry(make_registry(RULED))
    assert ingest.submit(batch).accepted == 1


def test_decoder_rejects_are_counted_per_connector_and_source() -> None:
    ingest = Ingest(make_registry(), historian=RecordingHistorian(), bus=Bus(), clock=lambda: NOW)
    ingest.record_rejects(RejectReason.MALFORMED, 3, connector="feed", source="plant/x")
    ingest.record_rejects(RejectReason.MALFORMED, 1, connector="feed", source="plant/x")
    ingest.record_rejects(RejectReason.WRONG_TYPE)
    stats = ingest.stats()
    assert stats.rejected == {RejectReason.MALFORMED: 4, RejectReason.WRONG_TYPE: 1}
    assert stats.rejected_sources == {("feed", "plant/x", RejectReason.MALFORMED): 4}
    assert np.int64(stats.accepted) == 0

"""With the real ``Ingest``: unbound metrics are counted as unmapped sources, a mapping rule
binds them, and engineering units from the birth are converted to the signal's unit."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from omp.bus import Bus
from omp.connectors.host import ConnectorHost
from omp.core.batch import PointBatch, TextBatch
from omp.core.events import Event
from omp.ingest import Ingest
from tests.connectors.sparkplug.helpers import DEVICE, PLUGINS, PREFIX, edge_node, model
from tests.connectors.support import FAST_BACKOFF, Mosquitto, registry_of, wait_for

RULES = """    map:
      - source: "pack/eol/{device}/Drive/Current"
        signal: "acme/munich/packaging/eol/cell/{device}/drive_current"
"""
CURRENT = "acme/munich/packaging/eol/cell/pal01/drive_current"


@dataclass
class RecordingHistorian:
    """Keeps every batch ingest accepted (the historian writer's interface)."""

    batches: list[PointBatch | TextBatch] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def write(self, batch: PointBatch | TextBatch, *, timeout: float | None = None) -> None:
        with self.lock:
            self.batches.append(batch)

    def write_events(self, events: Sequence[Event], *, timeout: float | None = None) -> None:
        pass

    def values(self, signal_id: int) -> list[float]:
        with self.lock:
            return [
                float(v)
                for b in self.batches
                if isinstance(b, PointBatch)
                for v in np.asarray(b.value)[np.asarray(b.signal_id) == signal_id]
            ]


def test_unbound_metrics_are_counted_and_a_mapping_rule_binds_with_unit_conversion(
    mosquitto: Mosquitto,
) -> None:
    registry = registry_of(model(mosquitto.url, rules=RULES))
    historian = RecordingHistorian()
    ingest = Ingest(registry, historian=historian, bus=Bus())
    host = ConnectorHost(registry, ingest, PLUGINS, backoff=FAST_BACKOFF)
    current = registry.signal(CURRENT).id
    host.start()
    try:
        wait_for(lambda: host.health()["spb"]["state"] == "connected", what="host connected")
        edge = edge_node(mosquitto.port).start()
        edge.data(DEVICE, {"Drive/Current": 7250.0, "Count": 9})
        wait_for(lambda: len(historian.values(current)) == 2, what="mapped values stored")
        wait_for(
            lambda: ingest.stats().unmapped.get(("spb", PREFIX + "Count")) == 2,
            what="unmapped counted",
        )
        edge.stop()
    finally:
        host.stop()
    assert historian.values(current)[:2] == [5.5, 7.25]  # engUnit mA -> the signal's A
    unmapped = ingest.stats().unmapped
    assert ("spb", PREFIX + "Drive/Current") not in unmapped
    assert unmapped[("spb", PREFIX + "Recipe")] >= 1  # text metrics are sources too

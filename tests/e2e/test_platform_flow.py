"""The whole foundation in one flow: the example plant, a connector's raw values, the historian.

A connector emits raw Modbus/OPC UA values into the platform's ingest; they are
resolved through the example model's bindings, scaled and unit-converted,
validated, stored in the embedded historian, and read back through the query
service: raw, aggregated, latest, time in state, and after a restart.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from omp.core.batch import SourceBatch
from omp.core.events import Event, EventKind
from omp.core.rejects import RejectReason
from omp.core.time import US_PER_MINUTE, US_PER_SECOND, parse_rfc3339
from omp.historian.types import Agg, EventQuery
from omp.runtime.platform import Platform
from omp.runtime.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "factory.yaml"
PRESS_1 = "acme/munich/machining/line_1/pressing/press_01"
PRESS_2 = "acme/munich/machining/line_1/pressing/press_02"
T0 = parse_rfc3339("2026-11-30T06:00:00Z")
NOW = T0 + 10 * US_PER_MINUTE


def open_platform(data_dir: Path) -> Platform:
    return Platform.open(Settings(data_dir=data_dir), model_file=EXAMPLE, clock=lambda: NOW)


def press_batch(connector: str, seconds: int) -> SourceBatch:
    """One value per second of oil temperature (raw tenths), pressure (bar) and state."""
    addresses = ["input:30001:int16", "holding:40005:float32", "holding:40017:uint16", "bogus:1"]
    ts = T0 + np.arange(seconds, dtype=np.int64) * US_PER_SECOND
    n = len(ts)
    index = np.concatenate([np.full(n, i, dtype=np.int32) for i in range(4)])
    state = np.where(np.arange(n) < n // 2, 1.0, 2.0)  # producing, then down
    values = np.concatenate([np.full(n, 1220.0), np.full(n, 2.5), state, np.zeros(n)])
    return SourceBatch.of(connector, addresses, index, np.tile(ts, 4), values)


def test_raw_values_are_scaled_converted_stored_and_read_back(tmp_path: Path) -> None:
    platform = open_platform(tmp_path)
    platform.start()
    report_1 = platform.ingest.submit(press_batch("modbus_press_01", 600))
    report_2 = platform.ingest.submit(press_batch("modbus_press_02", 600))
    stop = Event(T0 + 300 * US_PER_SECOND, PRESS_1, EventKind.STATE_CHANGE, "2", "down", "jam")
    platform.ingest.submit_events([stop])
    platform.historian.flush(timeout=30)

    # one unbound address per connector: counted and named, its neighbours stored
    assert report_1.accepted == 1800
    assert report_1.counts() == {RejectReason.UNKNOWN_SIGNAL: 600}
    assert platform.ingest.stats().unmapped[("modbus_press_02", "bogus:1")] == 600
    assert report_2.accepted == 1800

    queries = platform.queries
    latest = queries.latest(f"{PRESS_1}/*").to_pydict()
    by_path = dict(zip(latest["path"], latest["value"], strict=True))
    assert by_path[f"{PRESS_1}/oil_temp"] == 122.0  # tenths of a degree Celsius
    assert by_path[f"{PRESS_1}/hydraulic_pressure"] == 250.0  # bar -> kPa
    f_to_c = (122.0 - 32.0) * 5 / 9  # tenths of a degree Fahrenheit -> Cel
    latest_2 = queries.latest(f"{PRESS_2}/oil_temp").column("value").to_pylist()
    np.testing.assert_allclose(latest_2, [f_to_c])

    minutes = queries.aggregate(
        "**/press_0*/hydraulic_pressure",
        start=T0,
        end=NOW,
        every=US_PER_MINUTE,
        aggs=[Agg.AVG, Agg.COUNT],
    )
    assert minutes.num_rows == 20
    assert set(minutes.column("count").to_pylist()) == {60.0}
    assert set(minutes.column("avg").to_pylist()) == {250.0}

    states = queries.time_in_state(f"{PRESS_1}/state", start=T0, end=NOW, every=10 * US_PER_MINUTE)
    seconds = dict(
        zip(states.column("label").to_pylist(), states.column("seconds").to_pylist(), strict=True)
    )
    # 300 s producing, then down until now (the last point holds until the query's end)
    assert seconds == {"producing": 300.0, "down": 300.0}

    events = platform.historian.read_events(EventQuery(T0, NOW, asset_prefix=PRESS_1))
    assert [(e.name, e.reason) for e in events] == [("2", "jam")]
    ids_before = {s.path: s.id for s in queries.signals("**")}
    platform.stop()

    # after a restart: same ids, same data, and a replayed batch adds nothing
    again = open_platform(tmp_path)
    again.start()
    assert {s.path: s.id for s in again.queries.signals("**")} == ids_before
    again.ingest.submit(press_batch("modbus_press_01", 600))
    again.historian.flush(timeout=30)
    page = again.queries.raw(f"{PRESS_1}/oil_temp", start=T0, end=NOW, limit=10_000)
    assert page.table.num_rows == 600
    assert again.historian.stats().duplicates == 1800
    again.stop()


def test_text_from_a_connector_lands_as_text(tmp_path: Path) -> None:
    platform = open_platform(tmp_path)
    platform.start()
    batch = SourceBatch.of(
        "modbus_press_01",
        ["holding:40031:string20"],
        [0, 0],
        [T0, T0 + 1],
        pa.array(["A-1", "A-2"]),
    )
    assert platform.ingest.submit(batch).accepted == 2
    platform.historian.flush(timeout=30)
    latest = platform.queries.latest(f"{PRESS_1}/current_order").to_pydict()
    assert latest["text"] == ["A-2"]
    platform.stop()

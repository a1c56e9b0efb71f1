"""Coalescing, several unit ids on one gateway, and polling groups, against a real server."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from omp.connectors.health import LinkState
from omp.core.time import system_clock
from tests.connectors.modbus.model import PLUGINS, Sig, plc_registry
from tests.connectors.modbus.server import ModbusTestServer, Tables
from tests.connectors.support import running_host, wait_for

READ_HOLDING = 3


@pytest.fixture
def server() -> Iterator[ModbusTestServer]:
    units = {
        1: Tables(holding=[i % 1000 for i in range(1000)]),
        2: Tables(holding=[200 + i for i in range(200)]),
        3: Tables(holding=[300 + i for i in range(200)]),
    }
    server = ModbusTestServer(units)
    server.start()
    yield server
    server.stop()


def options(server: ModbusTestServer, **more: object) -> dict[str, object]:
    return {"host": "127.0.0.1", "port": server.port, "poll_interval": "1h", **more}


@pytest.mark.parametrize("count", [1, 125, 126, 700])
def test_adjacent_addresses_take_the_fewest_reads(server: ModbusTestServer, count: int) -> None:
    signals = {f"r{i:03d}": Sig(f"holding:{i}:uint16") for i in range(count)}
    registry = plc_registry(options(server), signals)
    with running_host(registry, PLUGINS) as (_, sink):
        wait_for(lambda: len(sink.addresses()) == count, what="one poll of every register")
        reads = server.seen(unit=1, function_code=READ_HOLDING)
        assert len(reads) == math.ceil(count / 125)
        assert all(read.count <= 125 for read in reads)
        assert sink.values(f"holding:{count - 1}:uint16") == [float((count - 1) % 1000)]


def test_gaps_and_value_boundaries_shape_the_reads(server: ModbusTestServer) -> None:
    addresses = [f"holding:{i}:int16" for i in range(124)]  # registers 0-123
    addresses += ["holding:124:float32"]  # 124-125: would cross 125, so a read of its own
    addresses += ["holding:130:uint16"]  # gap 4 <= max_gap: joins the float's read
    addresses += ["holding:400:uint16"]  # far away: a read of its own
    signals = {f"a{i:03d}": Sig(address) for i, address in enumerate(addresses)}
    registry = plc_registry(options(server, max_gap=4), signals)
    with running_host(registry, PLUGINS) as (_, sink):
        wait_for(lambda: len(sink.addresses()) == len(addresses), what="one poll")
        reads = {(r.address, r.count) for r in server.seen(unit=1, function_code=READ_HOLDING)}
        assert reads == {(0, 124), (124, 7), (400, 1)}


def test_several_units_share_one_gateway_connection(server: ModbusTestServer) -> None:
    signals = {
        "u1": Sig("holding:5:uint16"),  # unit_id 1 is the default
        "u2": Sig("2:holding:5:uint16"),
        "u3": Sig("3:holding:5:uint16"),
    }
    registry = plc_registry(options(server, poll_interval="50ms"), signals)
    with running_host(registry, PLUGINS) as (host, sink):
        wait_for(lambda: len(sink.addresses()) == 3, what="a value of every unit")
        assert sink.values("holding:5:uint16")[0] == 5.0
        assert sink.values("2:holding:5:uint16")[0] == 205.0
        assert sink.values("3:holding:5:uint16")[0] == 305.0
        health = host.connector_health("plc")
        for unit in (1, 2, 3):
            device = f"127.0.0.1:{server.port}/unit {unit}"
            wait_for(lambda d=device: health.device_state(d) is LinkState.CONNECTED, what=device)
    assert {s.unit for s in server.seen(function_code=READ_HOLDING)} == {1, 2, 3}


def test_fast_group_polls_more_often_than_slow(server: ModbusTestServer) -> None:
    signals = {
        "slow": Sig("holding:1:uint16"),  # default group: poll_interval
        "fast": Sig("holding:100:uint16", group="fast"),
    }
    registry = plc_registry(
        options(server, poll_interval="1s", groups={"fast": {"interval": "40ms"}}), signals
    )
    with running_host(registry, PLUGINS) as (_, sink):
        wait_for(lambda: len(sink.values("holding:100:uint16")) >= 15, what="15 fast polls")
        fast = len(sink.values("holding:100:uint16"))
        slow = len(sink.values("holding:1:uint16"))
    assert 1 <= slow <= fast / 4, f"slow group polled {slow} times while fast polled {fast}"
    reads = server.seen(unit=1, function_code=READ_HOLDING)
    assert sum(r.address == 100 for r in reads) >= 4 * sum(r.address == 1 for r in reads)


def test_values_carry_their_arrival_time_at_the_polling_rate(server: ModbusTestServer) -> None:
    registry = plc_registry(options(server, poll_interval="50ms"), {"v": Sig("holding:7")})
    before = system_clock()
    with running_host(registry, PLUGINS) as (_, sink):
        wait_for(lambda: len(sink.values("holding:7")) >= 11, what="11 polls")
        after = system_clock()
        with sink.lock:
            stamps = [row.ts for row in sink.rows if row.address == "holding:7"]
    assert before <= stamps[0]
    assert stamps[10] <= after
    assert stamps == sorted(stamps)
    # A fixed grid never polls faster than its interval, even when it catches up a late slot.
    span_ms = (stamps[-1] - stamps[0]) / 1000
    assert len(stamps) - 1 <= span_ms / 50 + 2


def test_overrunning_group_is_counted_in_health(server: ModbusTestServer) -> None:
    # 30 reads that cannot be merged (max_gap 0) take longer than a 2 ms interval.
    signals = {f"s{i:02d}": Sig(f"holding:{i * 2}:uint16") for i in range(30)}
    registry = plc_registry(options(server, poll_interval="2ms", max_gap=0), signals)
    with running_host(registry, PLUGINS) as (host, sink):
        health = host.connector_health("plc")
        wait_for(lambda: "overran" in (health.snapshot()["last_error"] or ""), what="an overrun")
        wait_for(lambda: len(sink.values("holding:0:uint16")) >= 5, what="five polls")
        assert "polling group 'default' overran its 2ms interval" in health.snapshot()["last_error"]
        polls = len(sink.values("holding:0:uint16"))
        with sink.lock:
            elapsed_ms = (sink.rows[-1].ts - sink.rows[0].ts) / 1000
    # Skipped slots are not caught up: never more polls than the grid has slots.
    assert polls <= elapsed_ms / 2 + 2


def test_connections_share_the_units_and_spread_the_reads(server: ModbusTestServer) -> None:
    signals = {f"u{unit}r{r}": Sig(f"{unit}:holding:{r * 125}") for unit in (1, 2) for r in (0, 1)}
    signals |= {f"u1r{r}": Sig(f"holding:{r * 125}") for r in (2, 3, 4, 5)}
    registry = plc_registry(options(server, poll_interval="20ms", connections=3), signals)
    with running_host(registry, PLUGINS) as (_, sink):
        wait_for(lambda: len(sink.addresses()) == len(signals), what="every address")
        wait_for(lambda: len(sink.values("2:holding:125")) >= 5, what="a few polls")
    assert server.connections == 3


def test_interval_zero_reads_every_request_in_turn(server: ModbusTestServer) -> None:
    signals = {f"b{r}": Sig(f"holding:{r * 125}") for r in range(3)}  # three reads
    registry = plc_registry(options(server, poll_interval="0", connections=2), signals)
    with running_host(registry, PLUGINS) as (_, sink):
        wait_for(lambda: len(sink.values("holding:250")) >= 50, what="50 reads of the last")
        counts = [len(sink.values(f"holding:{r * 125}")) for r in range(3)]
    assert max(counts) <= 2 * min(counts) + 4, counts  # round and round, none starved


def test_coils_coalesce_up_to_2000_bits_per_read() -> None:
    server = ModbusTestServer({1: Tables(coils=[i % 3 == 0 for i in range(2112)])})
    server.start()
    try:
        signals = {f"c{i:04d}": Sig(f"coil:{i}") for i in range(0, 2100, 7)}  # gaps of 6 bits
        registry = plc_registry(options(server), signals)
        with running_host(registry, PLUGINS) as (_, sink):
            wait_for(lambda: len(sink.addresses()) == len(signals), what="one poll")
            assert sink.values("coil:21") == [1.0]
            assert sink.values("coil:7") == [0.0]
        reads = [(r.address, r.count) for r in server.seen(function_code=1)]
        assert reads == [(0, 1996), (2002, 92)]
    finally:
        server.stop()

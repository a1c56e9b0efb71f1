from __future__ import annotations

from omp.connectors.health import ConnectorHealth, LinkState


class Ticks:
    def __init__(self) -> None:
        self.now = 1_767_225_600_000_000

    def __call__(self) -> int:
        self.now += 1_000_000
        return self.now


def test_losing_the_link_loses_its_devices_and_counts_errors() -> None:
    health = ConnectorHealth("plc", Ticks())
    health.connected()
    health.connected(device="unit 1")
    health.received(5, device="unit 1", messages=2)
    health.lost("socket closed by 10.0.0.5:502")
    report = health.snapshot()
    assert report["state"] == "lost"
    assert report["devices"]["unit 1"]["state"] == "lost"
    assert report["devices"]["unit 1"]["values"] == 5
    assert report["messages"] == 2
    assert report["errors"] == 1
    assert report["last_error"] == "socket closed by 10.0.0.5:502"
    assert report["last_value"].endswith("Z")


def test_errors_do_not_change_the_state() -> None:
    health = ConnectorHealth("plc", Ticks())
    health.connected()
    health.error("malformed JSON on plant/a", device="plant/a")
    assert health.state is LinkState.CONNECTED
    assert health.device_state("plant/a") is LinkState.STARTING
    assert health.snapshot()["devices"]["plant/a"]["errors"] == 1


def test_stopped_stops_everything() -> None:
    health = ConnectorHealth("plc", Ticks())
    health.connected(device="d")
    health.stopped()
    assert health.snapshot()["state"] == "stopped"
    assert health.device_state("d") is LinkState.STOPPED

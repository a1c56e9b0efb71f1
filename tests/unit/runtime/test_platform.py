"""The composition root on an embedded historian file in a temporary directory."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from omp.core.batch import PointBatch
from omp.core.errors import OmpError
from omp.core.time import US_PER_DAY, US_PER_SECOND, parse_rfc3339
from omp.model import Kind, ModelInvalid
from omp.runtime.platform import Platform
from omp.runtime.settings import Settings, load_settings
from tests.unit.runtime.conftest import EXAMPLE, MILL

T0 = parse_rfc3339("2026-01-01T00:00:00Z")
TEMP = f"{MILL}/spindle_temp"


def _points(platform: Platform, start: int, count: int) -> PointBatch:
    signal = platform.registry.signal(TEMP).id
    ts = [start + i * US_PER_SECOND for i in range(count)]
    return PointBatch.of([signal] * count, ts, [float(i) for i in range(count)])


def _count(platform: Platform, start: int, end: int) -> int:
    rows = 0
    cursor = None
    while True:
        page = platform.queries.raw(TEMP, start=start, end=end, cursor=cursor)
        rows += page.table.num_rows
        if page.next_cursor is None:
            return rows
        cursor = page.next_cursor


def test_stop_writes_everything_accepted(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, flush_interval=3600 * US_PER_SECOND)
    with Platform.open(settings, model_file=EXAMPLE, clock=lambda: T0 + US_PER_DAY) as platform:
        report = platform.ingest.submit(_points(platform, T0, 500))
        assert report.accepted == 500
    # no flush was asked for and the window is an hour: stop must have written it
    with Platform.open(settings, model_file=EXAMPLE) as again:
        assert _count(again, T0, T0 + US_PER_DAY) == 500


def test_signal_ids_survive_a_restart(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with Platform.open(settings, model_file=EXAMPLE) as first:
        ids = first.registry.ids
    with Platform.open(settings, model_file=EXAMPLE) as second:
        assert second.registry.ids == ids


def test_a_bad_model_opens_no_historian(tmp_path: Path) -> None:
    broken = EXAMPLE.parent / "broken.yaml"
    with pytest.raises(ModelInvalid) as info:
        Platform.open(Settings(data_dir=tmp_path / "data"), model_file=broken)
    assert len(info.value.problems) > 5
    assert not (tmp_path / "data").exists()


class FailingService:
    name = "failing"

    def start(self) -> None:
        raise OmpError("cannot bind port 1")

    def stop(self) -> None:
        raise AssertionError("never started, so never stopped")


class RecordingService:
    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    def start(self) -> None:
        self.log.append(f"start {self.name}")

    def stop(self) -> None:
        self.log.append(f"stop {self.name}")


def test_services_start_in_order_and_stop_in_reverse(tmp_path: Path) -> None:
    log: list[str] = []
    platform = Platform.open(Settings(data_dir=tmp_path), model_file=EXAMPLE)
    platform.add_service(RecordingService("a", log))
    platform.add_service(RecordingService("b", log))
    with platform:
        platform.add_service(RecordingService("late", log))
        assert platform.running
    assert log == ["start a", "start b", "start late", "stop late", "stop b", "stop a"]
    assert not platform.running
    platform.stop()  # a second stop does nothing
    assert len(log) == 6


def test_a_failing_service_undoes_the_start(tmp_path: Path) -> None:
    log: list[str] = []
    settings = Settings(data_dir=tmp_path)
    platform = Platform.open(settings, model_file=EXAMPLE)
    platform.add_service(RecordingService("a", log))
    platform.add_service(FailingService())
    with pytest.raises(OmpError, match="port 1"):
        platform.start()
    assert log == ["start a", "stop a"]
    # the historian file was released: it opens again
    with Platform.open(settings, model_file=EXAMPLE):
        pass


def test_health_counts_rejects_by_reason(tmp_path: Path) -> None:
    with Platform.open(Settings(data_dir=tmp_path), model_file=EXAMPLE) as platform:
        signal = platform.registry.signal(TEMP).id
        platform.ingest.submit(PointBatch.of([signal, signal], [T0, T0 + 1], [1.0, float("inf")]))
        platform.historian.flush(10)
        health = platform.health().to_dict()
    assert health["status"] == "ok"
    assert health["ingest"] == {"accepted": 1, "rejected": {"not_finite": 1}}
    assert health["historian"]["points_written"] == 1
    assert health["services"] == {}


def test_health_lists_services_and_what_they_report(tmp_path: Path) -> None:
    class Reporting(RecordingService):
        def health(self) -> dict[str, object]:
            return {"connected": True}

    platform = Platform.open(Settings(data_dir=tmp_path), model_file=EXAMPLE)
    platform.add_service(RecordingService("plain", []))
    platform.add_service(Reporting("opcua", []))
    with platform:
        services = platform.health().to_dict()["services"]
    assert services == {"plain": {"running": True}, "opcua": {"running": True, "connected": True}}


def test_retention_runs_while_running_and_never_for_one_shot_commands(tmp_path: Path) -> None:
    config = tmp_path / "omp.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n[retention.kind.measurement]\nraw = "1d"\n')
    settings = load_settings(config_file=config, env={})
    now = T0 + 10 * US_PER_DAY

    with Platform.open(settings, model_file=EXAMPLE, clock=lambda: now, with_retention=False) as p:
        p.ingest.submit(_points(p, T0, 10))  # nine days too old
        p.ingest.submit(_points(p, now - 10 * US_PER_SECOND, 10))
        p.historian.flush(10)
        assert _count(p, T0, now + 1) == 20

    with Platform.open(settings, model_file=EXAMPLE, clock=lambda: now) as p:
        # the retention service's first pass runs right after start, on its own thread
        deadline = time.monotonic() + 20
        while _count(p, T0, now + 1) != 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _count(p, T0, now + 1) == 10
        assert _count(p, now - US_PER_DAY, now + 1) == 10


def test_the_model_state_signals_are_declared_to_the_historian(tmp_path: Path) -> None:
    writable = Settings(data_dir=tmp_path)
    with Platform.open(writable, model_file=EXAMPLE) as platform:
        signals = platform.registry.signals
    state_ids = [s.id for s in signals if s.kind is Kind.STATE]
    other_id = next(s.id for s in signals if s.kind is not Kind.STATE)
    assert state_ids
    with Platform.open(writable, model_file=EXAMPLE, read_only=True) as again:
        assert again.historian.track_states(state_ids) == 0  # declared at the first open
        assert again.historian.track_states([other_id]) == 1  # others never were

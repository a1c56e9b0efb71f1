"""SimRunner: paces frames to the wall clock, fans out, isolates failing outputs."""

from __future__ import annotations

import threading
import time

import pytest

from omp.core.time import US_PER_SECOND, Micros
from omp.sim.frame import Frame
from omp.sim.runner import SimRunner


class CountingSimulation:
    """A stepper whose frames carry a tick number, so order and gaps are visible."""

    def __init__(self, tick: Micros = US_PER_SECOND) -> None:
        self.now: Micros = 0
        self.tick = tick

    def step(self) -> Frame:
        self.now += self.tick
        return Frame(ts=self.now, values=[[self.now // self.tick]])


class RecordingOutput:
    def __init__(self, name: str = "recorder") -> None:
        self.name = name
        self.frames: list[Frame] = []
        self.started = False
        self.stopped = False

    async def start(self) -> None:
        self.started = True

    def publish(self, frame: Frame) -> None:
        self.frames.append(frame)

    async def stop(self) -> None:
        self.stopped = True


class BrokenOutput(RecordingOutput):
    def publish(self, frame: Frame) -> None:
        super().publish(frame)
        raise RuntimeError("peer gone")


class FailingStart(RecordingOutput):
    async def start(self) -> None:
        raise OSError("port 4840 is taken")


def test_frames_are_paced_by_speed_and_reach_every_output_in_order() -> None:
    first, second = RecordingOutput("a"), RecordingOutput("b")
    runner = SimRunner(CountingSimulation(), [first, second], speed=20.0)  # 50 ms per tick
    runner.start()
    time.sleep(1.0)
    runner.stop()
    ticks = [f.ts // US_PER_SECOND for f in first.frames]
    assert ticks == list(range(1, len(ticks) + 1))
    assert 10 <= len(ticks) <= 22  # about 20 at 50 ms; generous for a loaded machine
    assert [f.ts for f in second.frames] == [f.ts for f in first.frames]
    assert first.started
    assert first.stopped
    assert second.stopped


def test_a_failing_output_is_counted_and_the_others_keep_receiving(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken, healthy = BrokenOutput("broken"), RecordingOutput("healthy")
    runner = SimRunner(CountingSimulation(), [broken, healthy], speed=50.0)
    runner.start()
    time.sleep(0.5)
    runner.stop()
    assert len(healthy.frames) >= 5
    assert runner.stats.output_errors["broken"] == len(broken.frames)
    messages = [r.getMessage() for r in caplog.records if "broken" in r.getMessage()]
    assert len(messages) == 1  # logged once per distinct error, not per tick
    assert "peer gone" in messages[0]


def test_a_failing_start_raises_and_stops_what_started() -> None:
    healthy = RecordingOutput("healthy")
    runner = SimRunner(CountingSimulation(), [healthy, FailingStart("opcua")])
    with pytest.raises(OSError, match="4840"):
        runner.start()
    assert healthy.stopped
    assert healthy.frames == []


def test_a_slow_machine_catches_up_without_drifting() -> None:
    class SlowSimulation(CountingSimulation):
        def step(self) -> Frame:
            time.sleep(0.03)  # longer than the 20 ms slot
            return super().step()

    output = RecordingOutput()
    runner = SimRunner(SlowSimulation(), [output], speed=50.0)
    runner.start()
    time.sleep(0.6)
    runner.stop()
    assert runner.stats.late >= len(output.frames) // 2
    assert runner.health()["late_ticks"] == runner.stats.late


def test_speed_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        SimRunner(CountingSimulation(), [], speed=0)


def test_stop_is_prompt_even_with_a_long_tick() -> None:
    runner = SimRunner(CountingSimulation(tick=3600 * US_PER_SECOND), [RecordingOutput()])
    runner.start()
    started = time.monotonic()
    stopper = threading.Thread(target=runner.stop)
    stopper.start()
    stopper.join(5)
    assert not stopper.is_alive()
    assert time.monotonic() - started < 2

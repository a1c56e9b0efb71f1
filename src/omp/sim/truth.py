"""Ground truth: what really happened, per machine and window, for tests to check KPIs against.

``TruthRecorder(plant, window)`` is handed to ``Simulation(truth=...)``; the
engine feeds it every closed window (seconds per state and per state and
reason, good and scrap parts, parts per order) and every order, quality
episode and wear episode as it happens. Parts are counted as they are made,
so PLC counter resets and wraps do not touch the truth. With ``path`` the
records stream to a JSON-lines file (format in docs/simulator.md) that
``read_truth`` reads back; without, they stay in ``recorder.truth``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from omp.core.time import US_PER_SECOND, Micros, floor_to, parse_rfc3339, to_rfc3339
from omp.sim.catalog import STATE_LABELS
from omp.sim.machine import Machine, QualityEpisode, WearEpisode
from omp.sim.orders import Order
from omp.sim.plant import Plant

FORMAT = "omp-sim-truth/1"


@dataclass(frozen=True, slots=True)
class WindowTruth:
    """One machine in one window: [start, end) is the part of the window the run covered."""

    machine: str
    """The machine's full path, enterprise first."""
    start: Micros
    end: Micros
    seconds: dict[str, float]
    """Seconds per state label; they add up to ``end - start``."""
    reasons: dict[str, dict[str, float]]
    """Seconds per state label and reason, for the states that have reasons."""
    good: int
    scrap: int
    orders: dict[str, tuple[int, int]]
    """Good and scrap parts per order id."""


@dataclass(frozen=True, slots=True)
class EpisodeTruth:
    """A quality episode (``kind`` shift or trend) or a wear episode (``kind`` wear)."""

    machine: str
    signal: str
    kind: str
    start: Micros
    end: Micros
    magnitude: float | None = None
    """Quality episodes: the shift, or the trend's offset at its end, in the signal's unit."""
    sigma: float | None = None
    reason: str | None = None
    """Wear episodes: the breakdown reason they ended in."""


@dataclass(slots=True)
class Truth:
    """Everything a truth file holds."""

    run: dict[str, Any] = field(default_factory=dict)
    windows: list[WindowTruth] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    """Completed orders, then (at the run's end) those still running with ``end`` None."""
    episodes: list[EpisodeTruth] = field(default_factory=list)


class TruthRecorder:
    """Collects the truth of one run; windows are aligned to multiples of ``window``."""

    def __init__(self, plant: Plant, window: Micros, *, path: Path | None = None) -> None:
        if window <= 0:
            raise ValueError(f"window must be positive, not {window} µs")
        self.window_size = window
        self.truth = Truth()
        self._assets = [f"{plant.enterprise}/{m.path}" for m in plant.machines]
        self._path = path
        self._file: IO[bytes] | None = None
        self._window_start: Micros = 0

    def begin(self, *, start: Micros, tick: Micros) -> Micros:
        """Called by the engine: the run starts; returns the end of the first window."""
        if self.window_size % tick or start % tick:
            raise ValueError(
                f"truth windows need whole ticks: window {self.window_size} µs and start "
                f"{start} µs must be multiples of the tick ({tick} µs)"
            )
        self._window_start = start
        self._emit(
            {
                "record": "run",
                "format": FORMAT,
                "start": to_rfc3339(start),
                "tick_s": tick / US_PER_SECOND,
                "window_s": self.window_size / US_PER_SECOND,
                "machines": len(self._assets),
            }
        )
        return floor_to(start, self.window_size) + self.window_size

    def window(self, machines: Sequence[Machine], *, end: Micros) -> Micros:
        """Called by the engine: the window ends at ``end``; returns the next window's end."""
        start = self._window_start
        if end > start:
            for machine in machines:
                self._emit(_window_record(self._assets[machine.index], start, end, machine))
        for machine in machines:
            machine.start_window()
        if self._file is not None:
            self._file.flush()  # a run that is killed keeps every closed window
        self._window_start = end
        return floor_to(end, self.window_size) + self.window_size

    def record(self, item: Order | QualityEpisode | WearEpisode) -> None:
        """Called by the engine: an order completed, or an episode began or ended."""
        if isinstance(item, Order):
            self._emit(_order_record(item))
        elif isinstance(item, QualityEpisode):
            self._emit(
                {
                    "record": "episode",
                    "machine": self._assets[item.machine],
                    "signal": item.signal,
                    "kind": item.kind,
                    "start": to_rfc3339(item.start),
                    "end": to_rfc3339(item.end),
                    "magnitude": item.magnitude,
                    "sigma": item.sigma,
                }
            )
        else:
            self._emit(
                {
                    "record": "episode",
                    "machine": self._assets[item.machine],
                    "signal": item.signal,
                    "kind": "wear",
                    "start": to_rfc3339(item.start),
                    "end": to_rfc3339(item.end),
                    "reason": item.reason,
                }
            )

    def close(self, running: Iterable[Order]) -> None:
        """Called by the engine at the run's end: record running orders and close the file."""
        for order in running:
            self._emit(_order_record(order))
        if self._file is not None:
            self._file.close()
            self._file = None

    def _emit(self, record: dict[str, Any]) -> None:
        if self._path is None:
            _load(self.truth, record)
            return
        if self._file is None:
            self._file = self._path.open("wb")
        self._file.write(orjson.dumps(record) + b"\n")


def read_truth(path: Path) -> Truth:
    """Read a truth file written by ``TruthRecorder(path=...)``."""
    truth = Truth()
    with path.open("rb") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                _load(truth, orjson.loads(line))
            except (KeyError, ValueError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not a truth record: {exc}") from None
    return truth


def _window_record(asset: str, start: Micros, end: Micros, machine: Machine) -> dict[str, Any]:
    seconds: dict[str, float] = {}
    reasons: dict[str, dict[str, float]] = {}
    micros_by_label: dict[str, int] = {}
    for (state, reason), micros in sorted(machine.win_seconds.items(), key=_key_order):
        label = STATE_LABELS[state]
        micros_by_label[label] = micros_by_label.get(label, 0) + micros
        if reason is not None:
            reasons.setdefault(label, {})[reason] = micros / US_PER_SECOND
    for label, micros in micros_by_label.items():
        seconds[label] = micros / US_PER_SECOND
    orders = {oid: {"good": g, "scrap": s} for oid, (g, s) in machine.win_orders.items()}
    return {
        "record": "window",
        "machine": asset,
        "start": to_rfc3339(start),
        "end": to_rfc3339(end),
        "seconds": seconds,
        "reasons": reasons,
        "good": sum(g for g, _ in machine.win_orders.values()),
        "scrap": sum(s for _, s in machine.win_orders.values()),
        "orders": orders,
    }


def _key_order(item: tuple[tuple[int, str | None], int]) -> tuple[int, str]:
    (state, reason), _ = item
    return state, reason or ""


def _order_record(order: Order) -> dict[str, Any]:
    return {
        "record": "order",
        "id": order.id,
        "line": order.line,
        "product": order.product,
        "quantity": order.quantity,
        "ideal_cycle_s": order.ideal_cycle_s,
        "start": to_rfc3339(order.start),
        "end": None if order.end is None else to_rfc3339(order.end),
    }


def _load(truth: Truth, record: dict[str, Any]) -> None:
    kind = record["record"]
    if kind == "window":
        truth.windows.append(
            WindowTruth(
                machine=record["machine"],
                start=parse_rfc3339(record["start"]),
                end=parse_rfc3339(record["end"]),
                seconds=dict(record["seconds"]),
                reasons={k: dict(v) for k, v in record["reasons"].items()},
                good=int(record["good"]),
                scrap=int(record["scrap"]),
                orders={k: (int(v["good"]), int(v["scrap"])) for k, v in record["orders"].items()},
            )
        )
    elif kind == "order":
        end = record["end"]
        truth.orders.append(
            Order(
                id=record["id"],
                line=record["line"],
                product=record["product"],
                quantity=int(record["quantity"]),
                ideal_cycle_s=float(record["ideal_cycle_s"]),
                start=parse_rfc3339(record["start"]),
                end=None if end is None else parse_rfc3339(end),
            )
        )
    elif kind == "episode":
        truth.episodes.append(
            EpisodeTruth(
                machine=record["machine"],
                signal=record["signal"],
                kind=record["kind"],
                start=parse_rfc3339(record["start"]),
                end=parse_rfc3339(record["end"]),
                magnitude=record.get("magnitude"),
                sigma=record.get("sigma"),
                reason=record.get("reason"),
            )
        )
    elif kind == "run":
        truth.run = dict(record)
    else:
        raise ValueError(f"unknown record {kind!r}")

"""Shared test support for connectors: a recording sink, free ports, a private Mosquitto,
and a way to run one connector under the real host.

Fakes are injected (the host takes any ``ConnectorSink``), never patched in.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from omp.connectors.backoff import Backoff
from omp.connectors.base import ConnectorPlugin
from omp.connectors.host import ConnectorHost
from omp.core.batch import PointBatch, SourceBatch, TextBatch
from omp.core.errors import BackpressureError
from omp.core.events import Event
from omp.core.rejects import RejectReason
from omp.model import Registry, compile_model, parse_model


@dataclass(frozen=True, slots=True)
class Row:
    """One value as a connector emitted it (before ingest resolves it)."""

    address: str
    ts: int
    value: float | str | None
    quality: int
    unit: str | None


@dataclass
class RecordingSink:
    """A ``ConnectorSink`` that keeps everything; ``full`` makes it refuse with backpressure."""

    rows: list[Row] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    rejects: Counter[tuple[str, str, RejectReason]] = field(default_factory=Counter)
    batches: int = 0
    full: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def submit(self, batch: SourceBatch | PointBatch | TextBatch) -> object:
        assert isinstance(batch, SourceBatch), "connectors submit SourceBatches"
        if self.full:
            raise BackpressureError("recording sink is full (test)")
        units = batch.units or (None,) * len(batch.addresses)
        values = batch.value.to_pylist() if batch.is_text else batch.value.tolist()  # type: ignore[union-attr]
        with self.lock:
            self.batches += 1
            for i, index in enumerate(np.asarray(batch.address_index).tolist()):
                self.rows.append(
                    Row(
                        batch.addresses[index],
                        int(batch.ts[i]),
                        values[i],
                        int(batch.quality[i]),
                        units[index],
                    )
                )
        return None

    def submit_events(self, events: Sequence[Event]) -> None:
        with self.lock:
            self.events.extend(events)

    def record_rejects(
        self,
        reason: RejectReason,
        count: int = 1,
        *,
        connector: str | None = None,
        source: str | None = None,
    ) -> None:
        with self.lock:
            self.rejects[(connector or "", source or "", reason)] += count

    def values(self, address: str) -> list[float | str | None]:
        with self.lock:
            return [row.value for row in self.rows if row.address == address]

    def addresses(self) -> set[str]:
        with self.lock:
            return {row.address for row in self.rows}

    def rejected(self, reason: RejectReason | None = None) -> int:
        with self.lock:
            return sum(n for (_, _, r), n in self.rejects.items() if reason is None or r is reason)


def wait_for(
    condition: Callable[[], object], timeout: float = 10.0, what: str = "condition"
) -> None:
    """Poll until ``condition()`` is truthy; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


FAST_BACKOFF: Callable[[], Backoff] = lambda: Backoff(initial=0.05, maximum=0.5)  # noqa: E731


def registry_of(model_yaml: str) -> Registry:
    """Compile model text with ids numbered by sorted path (no historian needed)."""

    class _Ids:
        def ensure_ids(self, paths: Sequence[str]) -> dict[str, int]:
            return {path: number for number, path in enumerate(sorted(paths), 1)}

    return compile_model(parse_model(model_yaml), ids=_Ids())


@contextmanager
def running_host(
    registry: Registry,
    plugins: dict[object, ConnectorPlugin],
    sink: RecordingSink | None = None,
    *,
    broker_url: str | None = None,
) -> Iterator[tuple[ConnectorHost, RecordingSink]]:
    """The real ``ConnectorHost`` with fast backoff, feeding a ``RecordingSink``."""
    sink = sink or RecordingSink()
    host = ConnectorHost(
        registry,
        sink,
        plugins,
        backoff=FAST_BACKOFF,
        broker_url=broker_url,  # type: ignore[arg-type]
    )
    host.start()
    try:
        yield host, sink
    finally:
        host.stop()


class Mosquitto:
    """A private Mosquitto on a free loopback port, restartable, with on-disk persistence
    (so QoS 1 persistent sessions survive a restart, as on a real broker)."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.workdir = workdir
        self._process: subprocess.Popen[bytes] | None = None
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self._binary = binary
        self.config = workdir / "mosquitto.conf"
        self.config.write_text(
            # Started as root, Mosquitto would switch to its own user, which cannot write the
            # persistence file into pytest's root-only directories; ignored when not root.
            "user root\n"
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {workdir}/\n"
            "autosave_interval 1\n"
            "max_queued_messages 0\n"
            "max_inflight_messages 0\n"
        )

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._process = subprocess.Popen(
            [self._binary, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not start on port {self.port}")

    def stop(self) -> None:
        """Stop like a service stop (SIGTERM): Mosquitto saves its persistence file first."""
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)
            self._process = None

    def restart(self) -> None:
        self.stop()
        self.start()

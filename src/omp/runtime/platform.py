"""``Platform``: the composition root that wires model, historian, bus and ingest.

>>> # with Platform.open(settings, model_file=Path("factory.yaml")) as platform:
>>> #     platform.ingest.submit(batch)

Order matters. ``open`` loads the model (all its problems at once), opens the
historian, and compiles the model against the historian's catalog so signal
ids stay stable across restarts and model edits. ``start`` starts the
historian writer, then every plugged-in service in the order added; ``stop``
stops services in reverse order, then flushes and closes the historian.

Later parts (connectors, apps, the API) plug in with ``add_service``: any
object with ``name``, ``start()`` and ``stop()``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

from omp.bus import Bus
from omp.core.errors import ConfigError
from omp.core.time import Clock, system_clock
from omp.historian.service import Historian
from omp.ingest import Ingest
from omp.model import Registry, compile_model, load_model
from omp.model.kinds import Kind
from omp.model.load import OptionsCheck
from omp.runtime.health import Health, Status
from omp.runtime.historian_factory import historian_counters, open_historian
from omp.runtime.ids import LookupIds
from omp.runtime.query import QueryService
from omp.runtime.retention import RetentionService
from omp.runtime.settings import Settings

log = logging.getLogger(__name__)


class Service(Protocol):
    """Something the platform starts after the historian and stops before it."""

    @property
    def name(self) -> str: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


@runtime_checkable
class ReportsHealth(Protocol):
    """A service that can say how it is doing (connectors: connected, backoff, last error)."""

    def health(self) -> dict[str, Any]: ...


class SetpointWriter(Protocol):
    """What writes setpoints to devices (the connector host)."""

    def write(
        self, signal_path: str, value: bool | int | float, *, timeout: float = 5.0
    ) -> None: ...


class Platform:
    """One running omp: model, historian, bus, ingest, queries and plugged-in services."""

    def __init__(
        self,
        *,
        settings: Settings,
        model_file: Path,
        registry: Registry,
        historian: Historian,
        clock: Clock,
    ) -> None:
        self.settings = settings
        self.model_file = model_file
        self.registry = registry
        self.historian = historian
        self.clock = clock
        self.bus = Bus()
        self.ingest = Ingest(registry, historian=historian, bus=self.bus, clock=clock)
        self.queries = QueryService(registry, historian, clock=clock)
        self._services: list[Service] = []
        self._started: list[Service] = []
        self._reload_listeners: list[Callable[[Registry], object]] = []
        self._reload_lock = threading.Lock()
        self.check_options: OptionsCheck | None = None
        """How connector options are checked on reload (the runtime's connector schemas)."""
        self.setpoint_writer: SetpointWriter | None = None
        """Where ``write_setpoint`` goes: the connector host, once connectors are attached."""
        self._running = False
        self._closed = False
        self.unknown_signals: tuple[str, ...] = ()
        """Model paths the historian's catalog does not know (read-only platforms only)."""

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        model_file: Path,
        clock: Clock = system_clock,
        with_retention: bool = True,
        read_only: bool = False,
        check_options: OptionsCheck | None = None,
    ) -> Platform:
        """Load and compile the model, open the historian; nothing runs until ``start``.

        ``with_retention=False`` leaves out the retention service: one-shot
        commands (query, export, import) never delete data as a side effect.
        ``read_only=True`` (query, export) also compiles the model against the
        catalog without adding to it (see ``LookupIds``): signals the historian
        never stored have no data, listed in ``unknown_signals``; reads write nothing.

        Raises ``ModelInvalid`` (every problem), ``ConfigError`` (unreadable
        file) or ``HistorianUnavailableError`` (names the file or URL).
        """
        # Before the historian: a bad model opens nothing. ``check_options`` types the
        # connectors' protocol options (the runtime's connector schemas).
        model = load_model(model_file, check_options=check_options)
        historian = open_historian(settings, clock=clock)
        lookup = None
        try:
            # The historian's catalog hands out the ids, so they survive restarts and edits.
            if read_only:
                lookup = LookupIds(historian.signal_ids())
            registry = compile_model(model, ids=lookup if lookup is not None else historian)
            if not read_only:  # long time-in-state ranges come from rollups (decision 0017)
                historian.track_states([s.id for s in registry.signals if s.kind is Kind.STATE])
        except BaseException:
            historian.stop()  # never started: closes the backend
            raise
        platform = cls(
            settings=settings,
            model_file=model_file,
            registry=registry,
            historian=historian,
            clock=clock,
        )
        platform.unknown_signals = lookup.unknown if lookup is not None else ()
        platform.check_options = check_options
        if with_retention and not read_only and settings.has_retention:
            kinds = {s.path: s.kind.value for s in registry.signals}
            interval = settings.retention_interval
            platform.add_service(RetentionService(historian, kinds=kinds, interval=interval))
        return platform

    @property
    def running(self) -> bool:
        return self._running

    @property
    def service_names(self) -> tuple[str, ...]:
        """The plugged-in services, in start order."""
        return tuple(service.name for service in self._services)

    def add_service(self, service: Service) -> None:
        """Plug in a service; it starts with the platform (or now, if already running)."""
        self._services.append(service)
        if self._running:
            self._start_service(service)

    def start(self) -> None:
        """Start the historian writer, then the services; on a failure, undo and re-raise."""
        if self._running:
            return
        self.historian.start()
        self._running = True
        try:
            for service in self._services:
                self._start_service(service)
        except BaseException:
            self.stop()
            raise
        log.info("omp started: model %s, historian %s", self.registry.version, self.describe())

    def _start_service(self, service: Service) -> None:
        service.start()
        self._started.append(service)

    def stop(self) -> None:
        """Stop services (reverse order), then flush and close the historian. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if not self._running:
            self.historian.stop()  # never started: just closes the backend
            return
        while self._started:
            service = self._started.pop()
            try:
                service.stop()
            except Exception:  # one service failing to stop must not keep data unflushed
                log.exception("service %r failed to stop", service.name)
        self._running = False
        self.historian.stop()  # drains the queue: everything accepted is written
        log.info("omp stopped")

    def on_reload(self, listener: Callable[[Registry], object]) -> None:
        """Call ``listener(new_registry)`` after every successful model reload (in add order)."""
        self._reload_listeners.append(listener)

    def reload_model(self) -> Registry:
        """Load, check and compile the model file again, and switch everything to it.

        Ingest, queries and listeners (the connector host) move to the new
        model; signals keep their ids. Raises ``ModelInvalid`` or ``ConfigError``
        and changes nothing when the file is bad: the platform keeps running
        on the model it has.
        """
        with self._reload_lock:
            model = load_model(self.model_file, check_options=self.check_options)
            registry = compile_model(model, ids=self.historian)
            if registry.version == self.registry.version:
                return self.registry
            self.historian.track_states([s.id for s in registry.signals if s.kind is Kind.STATE])
            for listener in self._reload_listeners:
                listener(registry)  # a listener refusing the model (bad options) stops the switch
            self.ingest.use_registry(registry)
            self.queries = QueryService(registry, self.historian, clock=self.clock)
            self.registry = registry
            log.info("model reloaded: version %s, %d signals", registry.version, len(registry))
            return registry

    def write_setpoint(self, path: str, value: bool | int | float, *, timeout: float = 5.0) -> None:
        """Write a setpoint signal's value to its device (see ``ConnectorHost.write``).

        Raises ``UnknownSignalError`` or ``WriteError`` naming why not.
        """
        if self.setpoint_writer is None:
            raise ConfigError("no connectors run in this platform; nothing can be written")
        self.setpoint_writer.write(path, value, timeout=timeout)

    def sources(self) -> dict[str, Any]:
        """Source addresses that reached no signal, and input decoders refused, by source.

        Unmapped addresses can be bound (a binding or a ``map`` rule) and take
        effect on the next model reload, without a restart.
        """
        stats = self.ingest.stats()
        unmapped = sorted(stats.unmapped.items(), key=lambda item: (-item[1], item[0]))
        rejected = sorted(stats.rejected_sources.items(), key=lambda item: (-item[1], item[0]))
        return {
            "model_version": stats.model_version,
            "unmapped": [{"connector": c, "address": a, "points": n} for (c, a), n in unmapped],
            "rejected": [
                {"connector": c, "source": src, "reason": r.value, "count": n}
                for (c, src, r), n in rejected
            ],
        }

    def describe(self) -> str:
        """Where the data lives: the DuckDB file or the redacted PostgreSQL URL."""
        return self.settings.historian_target

    def health(self) -> Health:
        stats = self.ingest.stats()
        counters, problems = historian_counters(self.historian.stats())
        status = Status.OK if self._running else Status.STOPPED
        if problems and self._running:
            status = Status.DEGRADED
        return Health(
            status=status,
            model_version=self.registry.version,
            historian=self.describe(),
            historian_counters=counters,
            ingest_accepted=stats.accepted,
            ingest_rejected={reason.value: count for reason, count in stats.rejected.items()},
            services=self._service_health(),
            problems=tuple(problems),
        )

    def _service_health(self) -> dict[str, dict[str, Any]]:
        report: dict[str, dict[str, Any]] = {}
        for service in self._services:
            details = service.health() if isinstance(service, ReportsHealth) else {}
            report[service.name] = {"running": service in self._started, **details}
        return report

    def __enter__(self) -> Platform:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

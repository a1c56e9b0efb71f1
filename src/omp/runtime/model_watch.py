"""``ModelWatcher``: reload the model when its file changes, without a restart.

It polls the file's content (cheap: one stat, and a read when the stat
changed) and calls ``Platform.reload_model``. A bad edit is logged with every
problem and reported in health; the platform keeps running on the last good
model until the file is fixed.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path
from typing import Any, Protocol

from omp.core.errors import ConfigError
from omp.model import Registry

log = logging.getLogger(__name__)


class Reloadable(Protocol):
    model_file: Path

    def reload_model(self) -> Registry: ...


class ModelWatcher:
    """A platform service; ``check_now`` runs one poll (tests call it directly)."""

    name = "model-watcher"

    def __init__(self, platform: Reloadable, *, interval: float = 2.0) -> None:
        self._platform = platform
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stamp = self._stat()
        self._digest = self._read_digest()
        self.reloads = 0
        self.last_error: str | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="omp-model-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def health(self) -> dict[str, Any]:
        return {"reloads": self.reloads, "last_error": self.last_error}

    def check_now(self) -> bool:
        """Reload when the file's content changed; True when a new model is in force."""
        stamp = self._stat()
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        digest = self._read_digest()
        if digest == self._digest:
            return False
        try:
            self._platform.reload_model()
        except ConfigError as exc:  # ModelInvalid is a ConfigError: keep the last good model
            self.last_error = str(exc)
            log.error(
                "model %s not reloaded, still running the previous one:\n%s",
                self._platform.model_file,
                exc,
            )
            return False
        self._digest = digest
        self.reloads += 1
        self.last_error = None
        return True

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.check_now()
            except Exception:  # the watcher must outlive any surprise
                log.exception("model watcher failed")

    def _stat(self) -> tuple[int, int] | None:
        try:
            info = self._platform.model_file.stat()
        except OSError:
            return None
        return info.st_mtime_ns, info.st_size

    def _read_digest(self) -> str | None:
        try:
            return hashlib.sha256(self._platform.model_file.read_bytes()).hexdigest()
        except OSError:
            return None

"""Applying the retention policy periodically, as a platform service.

The historian knows how to delete what the policy no longer keeps
(``Historian.apply_retention``); this service decides when: once at start,
then every ``interval``. Deletion runs on the historian's writer thread, so it
never races a flush. A failure is logged once, and the recovery once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Protocol

from omp.core.errors import OmpError
from omp.core.time import US_PER_SECOND, Micros

log = logging.getLogger(__name__)


class RetentionTarget(Protocol):
    def apply_retention(self, kinds: Mapping[str, str], *, now: Micros | None = None) -> int: ...


class RetentionService:
    """Runs ``target.apply_retention(kinds)`` at start and then every ``interval``."""

    name = "retention"

    def __init__(
        self, target: RetentionTarget, *, kinds: Mapping[str, str], interval: Micros
    ) -> None:
        self._target = target
        self._kinds = dict(kinds)
        self._interval_s = interval / US_PER_SECOND
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False
        self.deleted = 0
        """Rows deleted since start."""
        self.runs = 0

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="omp-retention", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def health(self) -> dict[str, object]:
        return {"runs": self.runs, "deleted": self.deleted, "failing": self._failing}

    def run_once(self) -> None:
        """One pass; any error is logged (once per failure streak), reported as ``failing``
        in ``health``, and never raised, so the next pass still runs."""
        try:
            self.deleted += self._target.apply_retention(self._kinds)
        except Exception as exc:  # any failure: the thread must live on to retry
            if not self._failing:
                log.warning(
                    "retention failed (will retry every %.0fs): %s",
                    self._interval_s,
                    exc,
                    exc_info=not isinstance(exc, OmpError),  # a bug deserves its traceback
                )
            self._failing = True
        else:
            if self._failing:
                log.info("retention works again")
            self._failing = False
        self.runs += 1

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self._interval_s)

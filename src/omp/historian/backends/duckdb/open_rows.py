"""The writer's memory of each signal's newest stored rollup row, per rollup table.

In steady ingest every flush reopens the newest bucket of each signal (the
minute and hour its previous flush ended in). Knowing that row lets the
writer delete it with a plain ``DELETE`` instead of ``DELETE ... RETURNING``
and a round trip through Arrow. Correctness never depends on this memory: a
miss falls back to reading the row back, and anything that may change a
remembered row behind the writer's back (late-data recompute, retention)
forgets it. Changes are staged and applied only when the transaction commits.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

from omp.historian.numpy_partials import Columns, take

_UNKNOWN = np.iinfo(np.int64).min

_Change = tuple[Literal["store"], str, Columns] | tuple[Literal["forget"], npt.NDArray[np.int32]]


class OpenRows:
    """Per table and signal id, the stored partial of the signal's newest bucket."""

    def __init__(self) -> None:
        self._tables: dict[str, Columns] = {}
        self._staged: list[_Change] = []

    def lookup(
        self, table: str, signal_id: npt.NDArray[np.int32], bucket: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.bool_], Columns]:
        """Which ``(signal_id, bucket)`` keys are remembered, and their rows (for the hits)."""
        columns = self._tables.get(table)
        hit = np.zeros(len(signal_id), dtype=np.bool_)
        if columns is None:
            return hit, {}
        inside = signal_id < len(columns["bucket"])
        hit[inside] = columns["bucket"][signal_id[inside]] == bucket[inside]
        return hit, take(columns, signal_id[hit].astype(np.intp))

    def stage_store(self, table: str, rows: Columns) -> None:
        """Remember ``rows`` (at most one per signal) once the transaction commits."""
        self._staged.append(("store", table, rows))

    def stage_forget(self, signal_id: npt.NDArray[np.int32]) -> None:
        """Forget every remembered row of these signals once the transaction commits."""
        self._staged.append(("forget", signal_id))

    def commit(self) -> None:
        for change in self._staged:
            if change[0] == "store":
                self._store(change[1], change[2])
            else:
                for columns in self._tables.values():
                    ids = change[1]
                    columns["bucket"][ids[ids < len(columns["bucket"])]] = _UNKNOWN
        self._staged.clear()

    def discard(self) -> None:
        self._staged.clear()

    def clear(self) -> None:
        """Forget everything (after deletes that may touch any row)."""
        self._tables.clear()
        self._staged.clear()

    def _store(self, table: str, rows: Columns) -> None:
        ids = rows["signal_id"]
        if not len(ids):
            return
        columns = self._tables.get(table)
        need = int(ids.max()) + 1
        if columns is None or need > len(columns["bucket"]):
            columns = self._grown(
                columns, rows, max(need, 2 * len(columns["bucket"]) if columns else need)
            )
            self._tables[table] = columns
        for name, values in rows.items():
            columns[name][ids] = values

    @staticmethod
    def _grown(old: Columns | None, like: Columns, size: int) -> Columns:
        grown = {name: np.zeros(size, dtype=values.dtype) for name, values in like.items()}
        grown["bucket"][:] = _UNKNOWN
        if old is not None:
            for name, values in old.items():
                grown[name][: len(values)] = values
        return grown

"""Signal id sources that are not the historian's catalog.

``CountingIds`` numbers paths in order; ``omp check`` compiles with it to show
a model's summary without opening any database. Running platforms always use
the historian's catalog, which keeps ids stable across restarts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class CountingIds:
    """Ids 1, 2, 3, ... in first-seen order, for this process only.

    >>> CountingIds().ensure_ids(["a", "b", "a"])
    {'a': 1, 'b': 2}
    """

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    def ensure_ids(self, paths: Sequence[str]) -> Mapping[str, int]:
        for path in paths:
            self._ids.setdefault(path, len(self._ids) + 1)
        return {path: self._ids[path] for path in paths}

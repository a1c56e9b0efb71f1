"""Signal id sources that are not the historian's catalog.

``CountingIds`` numbers paths in order; ``omp check`` compiles with it to show
a model's summary without opening any database. ``LookupIds`` reads the
historian's catalog without adding to it (one-shot reads). Running platforms
always use the historian's catalog itself, which keeps ids stable across restarts.
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


class LookupIds:
    """The historian catalog's ids, looked up only: never allocates, never writes.

    Reads compile the model with it, so querying with a model that names paths
    the historian never stored adds nothing to the catalog. A path the catalog
    does not know gets an id above every catalog id; no data can exist under
    it, so it simply has no points. ``unknown`` lists those paths.

    >>> ids = LookupIds({"a": 1, "b": 7})
    >>> dict(ids.ensure_ids(["a", "z"])), ids.unknown
    ({'a': 1, 'z': 8}, ('z',))
    """

    def __init__(self, catalog: Mapping[str, int]) -> None:
        self._catalog = dict(catalog)
        self._next = max(self._catalog.values(), default=0) + 1
        self._unknown: dict[str, int] = {}

    @property
    def unknown(self) -> tuple[str, ...]:
        """Paths asked for that the catalog does not know, in first-asked order."""
        return tuple(self._unknown)

    def ensure_ids(self, paths: Sequence[str]) -> Mapping[str, int]:
        answer: dict[str, int] = {}
        for path in paths:
            known = self._catalog.get(path)
            if known is None:
                known = self._unknown.get(path)
            if known is None:
                known = self._unknown[path] = self._next
                self._next += 1
            answer[path] = known
        return answer

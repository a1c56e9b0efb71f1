"""The signal catalog under concurrent allocation, and its ids across reopen."""

from __future__ import annotations

import threading

import pytest

from tests.integration.postgres.conftest import Store

pytestmark = pytest.mark.postgres


def test_concurrent_allocators_agree_on_every_id(store: Store) -> None:
    backends = [store.open() for _ in range(4)]
    paths = [f"acme/plant/line_{k % 3}/m{k}/temp" for k in range(60)]
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(backends))

    def allocate(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            order = paths[index:] + paths[:index]  # each allocator asks in another order
            results.append(dict(backends[index].ensure_ids(order)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=allocate, args=(i,)) for i in range(len(backends))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    catalog = dict(backends[0].signal_ids())
    for backend in backends:
        backend.close()
    assert errors == []
    assert len(results) == len(backends)
    assert all(result == catalog for result in results)
    assert len(set(catalog.values())) == len(paths)


def test_ids_are_never_reused_after_a_path_is_removed_by_hand(store: Store) -> None:
    backend = store.open()
    first = backend.ensure_ids(["a/b/c"])["a/b/c"]
    store.sql("DELETE FROM {s}.signals WHERE path = 'a/b/c'")
    again = backend.ensure_ids(["a/b/c"])["a/b/c"]
    backend.close()
    assert again > first

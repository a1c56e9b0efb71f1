"""Signal catalog: path -> id, stable across restarts, never reused."""

from __future__ import annotations

from tests.integration.historian.conftest import BackendFactory


def test_ids_are_stable_and_new_paths_get_new_ids(backend_factory: BackendFactory) -> None:
    backend = backend_factory()
    first = backend.ensure_ids(["a/x", "a/y"])
    again = backend.ensure_ids(["a/y", "a/z", "a/x"])
    assert again["a/x"] == first["a/x"]
    assert again["a/y"] == first["a/y"]
    assert again["a/z"] not in set(first.values())
    assert len(set(again.values())) == 3
    backend.close()


def test_ids_survive_reopen(backend_factory: BackendFactory) -> None:
    backend = backend_factory()
    before = dict(backend.ensure_ids(["p/1", "p/2", "p/3"]))
    backend.close()
    reopened = backend_factory()
    assert dict(reopened.signal_ids()) == before
    assert reopened.ensure_ids(["p/2"]) == {"p/2": before["p/2"]}
    newest = reopened.ensure_ids(["p/4"])["p/4"]
    assert newest not in before.values()
    reopened.close()


def test_repeated_paths_in_one_call_get_one_id(backend_factory: BackendFactory) -> None:
    backend = backend_factory()
    got = backend.ensure_ids(["d/1", "d/1", "d/2"])
    assert set(got) == {"d/1", "d/2"}
    assert got["d/1"] != got["d/2"]
    assert backend.ensure_ids([]) == {}
    backend.close()

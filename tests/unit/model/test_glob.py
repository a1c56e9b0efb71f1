from __future__ import annotations

import pytest

from omp.core.errors import UnknownSignalError
from omp.model import Registry, compile_model, load_model
from tests.unit.model.conftest import EXAMPLES, DictIds


@pytest.fixture(scope="module")
def registry() -> Registry:
    return compile_model(load_model(EXAMPLES / "factory.yaml"), ids=DictIds())


def paths(registry: Registry, pattern: str) -> list[str]:
    return [s.path for s in registry.match(pattern)]


def test_double_star_spans_levels(registry: Registry) -> None:
    found = paths(registry, "acme/**/spindle_temp")
    assert len(found) == 4
    assert all(p.endswith("/spindle_temp") for p in found)


def test_single_star_stays_within_one_level(registry: Registry) -> None:
    assert len(paths(registry, "acme/munich/*/*/*/*/oil_temp")) == 2
    with pytest.raises(UnknownSignalError):
        registry.match("acme/*/oil_temp")


def test_star_inside_a_level(registry: Registry) -> None:
    found = paths(registry, "acme/munich/machining/line_1/milling/mill_01/spindle_*")
    assert [p.rsplit("/", 1)[1] for p in found] == [
        "spindle_power",
        "spindle_speed",
        "spindle_speed_setpoint",
        "spindle_temp",
    ]


def test_mqtt_wildcards(registry: Registry) -> None:
    assert paths(registry, "acme/+/+/+/+/+/oil_temp") == paths(registry, "acme/**/oil_temp")
    assert paths(registry, "acme/munich/packaging/#") == paths(registry, "acme/munich/packaging/**")


def test_trailing_double_star_selects_everything_below(registry: Registry) -> None:
    assert len(paths(registry, "acme/**")) == len(registry)
    assert len(paths(registry, "**/state")) == 12


def test_plain_path_is_an_exact_lookup(registry: Registry) -> None:
    path = "acme/munich/packaging/pack_1/filling/filler_02/fill_volume"
    assert paths(registry, path) == [path]


def test_no_match_names_the_pattern(registry: Registry) -> None:
    with pytest.raises(UnknownSignalError, match=r"pattern 'acme/\*\*/nope' matches no signal"):
        registry.match("acme/**/nope")


def test_dots_and_brackets_match_literally(registry: Registry) -> None:
    with pytest.raises(UnknownSignalError):
        registry.match("acme/**/spindle.temp*")

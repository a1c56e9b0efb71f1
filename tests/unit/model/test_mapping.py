from __future__ import annotations

import pytest

from omp.model import ModelInvalid, parse_model
from omp.model.mapping import MapRule, rule_problem
from tests.unit.ingest.fakes import MODEL, make_registry


@pytest.mark.parametrize(
    ("source", "address", "expected"),
    [
        ("g/{node}/{signal}", "g/n1/temp", "acme/{node}/{signal}|acme/n1/temp"),
        ("g/+/{signal}", "g/anything/temp", "acme/{signal}|acme/temp"),
        ("g/{node}/#", "g/n1/a/b/c", "acme/{node}|acme/n1"),
        ("g/{x}/{x}", "g/a/a", "acme/{x}|acme/a"),
    ],
)
def test_rules_capture_named_levels(source: str, address: str, expected: str) -> None:
    template, result = expected.split("|")
    assert MapRule.parse(source, template).apply(address) == result


@pytest.mark.parametrize(
    ("source", "address"),
    [
        ("g/{node}/{signal}", "g/n1"),  # too short
        ("g/{node}/{signal}", "g/n1/a/b"),  # too long without '#'
        ("g/{node}/{signal}", "h/n1/temp"),  # literal differs
        ("g/{x}/{x}", "g/a/b"),  # the same name must capture the same text
    ],
)
def test_rules_that_do_not_match_give_none(source: str, address: str) -> None:
    assert (
        MapRule.parse(source, "acme/{x}" if "{x}" in source else "acme/{node}").apply(address)
        is None
    )


@pytest.mark.parametrize(
    ("source", "signal", "fragment"),
    [
        ("g//x", "a", "empty level"),
        ("g/#/x", "a", "'#' may only be the last level"),
        ("g/a{b}", "a", "must be plain text"),
        ("g/{node}", "a/{device}", "never captures"),
        ("g/{node}", "a/+", "may only hold text"),
    ],
)
def test_bad_rules_are_named(source: str, signal: str, fragment: str) -> None:
    problem = rule_problem(source, signal)
    assert problem is not None
    assert fragment in problem


def test_bad_rule_in_a_model_is_reported_with_its_path() -> None:
    text = MODEL.replace(
        "  regs: {protocol: modbus, host: 127.0.0.1}",
        "  regs: {protocol: modbus, host: 127.0.0.1}\n"
        '  feed:\n    protocol: mqtt\n    map:\n      - {source: "a/{x}", signal: "acme/{y}"}',
    )
    with pytest.raises(ModelInvalid) as raised:
        parse_model(text)
    message = str(raised.value)
    assert "connectors.feed.map" in message
    assert "{y}" in message


def test_registry_resolves_through_rules_after_explicit_bindings() -> None:
    text = MODEL.replace(
        "  regs: {protocol: modbus, host: 127.0.0.1}",
        "  regs: {protocol: modbus, host: 127.0.0.1}\n"
        "  feed:\n    protocol: mqtt\n    map:\n"
        '      - {source: "plant/{eq}/{signal}", signal: "acme/s1/a/l/c/{eq}/{signal}"}',
    )
    registry = make_registry(text)
    bound = registry.resolve("feed", "plant/oven_2/pressure")
    assert bound is not None
    assert bound.signal.path == "acme/s1/a/l/c/oven_2/pressure"
    assert bound.source_unit == "kPa"
    assert bound.conversion.scale == 1.0
    assert registry.resolve("feed", "plant/oven_9/pressure") is None  # no such signal
    assert registry.resolve("feed", "plant/oven_2/nope") is None
    explicit = registry.resolve("plc", "ns=2;s=T1")
    assert explicit is not None
    assert explicit.signal.name == "temp"
    assert "feed" in registry.connectors

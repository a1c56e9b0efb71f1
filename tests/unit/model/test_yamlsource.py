from __future__ import annotations

from pathlib import Path

import pytest

from omp.core.errors import ConfigError
from omp.model.yamlsource import parse_source, read_source


def test_records_the_line_of_every_key_and_item() -> None:
    doc = parse_source("a:\n  b: 1\n  c:\n    - x\n    - y\nd: 2\n", file="f.yaml")
    assert doc.data == {"a": {"b": 1, "c": ["x", "y"]}, "d": 2}
    assert doc.lines[("a",)] == 1
    assert doc.lines[("a", "b")] == 2
    assert doc.lines[("a", "c", 1)] == 5
    assert doc.lines[("d",)] == 6
    assert doc.problems == ()


def test_line_of_falls_back_to_the_nearest_ancestor() -> None:
    doc = parse_source("a:\n  b:\n    c: 1\n", file="f.yaml")
    assert doc.line_of(("a", "b", "missing", "deeper")) == 2


def test_duplicate_key_is_a_problem_naming_both_lines() -> None:
    doc = parse_source("types:\n  mill: 1\n  press: 2\n  mill: 3\n", file="f.yaml")
    (problem,) = doc.problems
    assert problem.line == 4
    assert problem.path == ("types", "mill")
    assert "duplicate key 'mill'" in problem.message
    assert "line 2" in problem.message
    assert doc.data == {"types": {"mill": 1, "press": 2}}, "the first occurrence is kept"


def test_merge_keys_may_be_overridden_without_a_duplicate_problem() -> None:
    text = "base: &b {x: 1, y: 2}\nitem:\n  <<: *b\n  y: 3\n"
    doc = parse_source(text, file="f.yaml")
    assert doc.problems == ()
    assert doc.data["item"] == {"x": 1, "y": 3}


def test_syntax_error_names_the_line() -> None:
    doc = parse_source("a: 1\nb: [1, 2\nc: 3\n", file="f.yaml")
    (problem,) = doc.problems
    assert problem.file == "f.yaml"
    assert problem.line in (2, 3)  # the flow sequence opened on 2 is found unclosed on 3
    assert problem.message.startswith("YAML syntax error")
    assert doc.data is None


def test_bad_indentation_is_a_syntax_error_with_its_line() -> None:
    doc = parse_source("a:\n  b: 1\n c: 2\n", file="f.yaml")
    (problem,) = doc.problems
    assert problem.line == 3


def test_empty_file_is_a_problem() -> None:
    doc = parse_source("# only a comment\n", file="f.yaml")
    (problem,) = doc.problems
    assert "empty" in problem.message


def test_boolean_looking_keys_stay_text() -> None:
    doc = parse_source("on: 1\nno: 2\n", file="f.yaml")
    assert doc.data == {"on": 1, "no": 2}


def test_missing_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match=r"nope\.yaml"):
        read_source(missing)


def test_a_recursive_alias_is_a_problem_not_a_crash() -> None:
    doc = parse_source("a: &a\n  - x\n  - *a\n", file="f.yaml")
    (problem,) = doc.problems
    assert "alias refers to the node that contains it" in problem.message
    assert doc.data is None


def test_an_alias_bomb_is_refused() -> None:
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for depth in range(1, 5):
        name, previous = chr(97 + depth), chr(96 + depth)
        levels.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]")
    text = "\n".join(levels) + "\n"
    assert parse_source(text, file="f.yaml", max_nodes=200_000).problems == ()
    doc = parse_source(text, file="f.yaml", max_nodes=50_000)
    (problem,) = doc.problems
    assert "more than 50000 values" in problem.message


def test_a_merged_anchor_used_twice_is_not_a_duplicate() -> None:
    doc = parse_source("b: &b {x: 1}\nt: &t {<<: *b, x: 2}\nu: *t\nv: *t\n", file="f.yaml")
    assert doc.problems == ()
    assert doc.data["u"] == doc.data["v"] == {"x": 2}

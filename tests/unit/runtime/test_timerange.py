"""Query bounds outside storable time are refused with the argument named."""

from __future__ import annotations

import pytest

from omp.core.errors import TimeFormatError
from omp.core.time import parse_rfc3339
from omp.runtime.timerange import LATEST, parse_bound, parse_range

NOW = parse_rfc3339("2026-11-30T12:00:00Z")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("-9999999999999d", "before 1970"),
        ("+9999999999999d", "after the year 9999"),
        ("1969-12-31T23:59:59Z", "before 1970"),
        ("-21000d", "before 1970"),
    ],
)
def test_a_bound_outside_storable_time_names_the_argument(text: str, words: str) -> None:
    with pytest.raises(TimeFormatError) as caught:
        parse_bound(text, now=NOW, name="--from")
    assert str(caught.value).startswith(f"--from {text!r}")
    assert words in str(caught.value)


def test_a_malformed_bound_names_the_argument() -> None:
    with pytest.raises(TimeFormatError, match=r"^to 'yesterday'"):
        parse_range("-1h", "yesterday", now=NOW, names=("from", "to"))


def test_bounds_at_the_edges_are_accepted() -> None:
    assert parse_range("1970-01-01T00:00:00Z", "now", now=NOW, names=("a", "b")) == (0, NOW)
    assert parse_bound("now", now=LATEST, name="--to") == LATEST

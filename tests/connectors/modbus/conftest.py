from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _nothing_left_open() -> Iterator[None]:
    """Collect garbage after each test, so a socket it left open fails that test
    (an unclosed-socket ResourceWarning is an error) instead of a later one."""
    yield
    gc.collect()

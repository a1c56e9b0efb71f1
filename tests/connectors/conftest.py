from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.connectors.support import Mosquitto


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A private Mosquitto broker on a free port (restartable with ``.restart()``)."""
    broker = Mosquitto(tmp_path)
    broker.start()
    yield broker
    broker.stop()

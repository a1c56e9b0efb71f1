from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.connectors.mqtt.helpers import PersistentMosquitto


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[PersistentMosquitto]:
    """A private, restartable Mosquitto whose sessions really survive a restart."""
    broker = PersistentMosquitto(tmp_path)
    broker.start()
    yield broker
    broker.stop()

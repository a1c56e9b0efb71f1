"""The default deployment: the Sparkplug host and an edge node through omp's embedded broker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from omp.connectors.broker.embedded import EmbeddedBroker
from omp.connectors.health import LinkState
from omp.core.quality import Quality
from tests.connectors.sparkplug.helpers import (
    DEVICE,
    GROUP,
    NODE,
    PLUGINS,
    PREFIX,
    edge_node,
    model,
    watch_state,
)
from tests.connectors.support import registry_of, running_host, wait_for


@pytest.fixture
def embedded() -> Iterator[EmbeddedBroker]:
    broker = EmbeddedBroker(port=0)
    broker.start()
    yield broker
    broker.stop()


def test_births_data_state_and_death_through_the_embedded_broker(
    embedded: EmbeddedBroker,
) -> None:
    registry = registry_of(model(embedded.url))
    with watch_state(embedded.port) as watcher, running_host(registry, PLUGINS) as (host, sink):
        wait_for(lambda: (watcher.last() or {}).get("online") is True, what="STATE birth")
        edge = edge_node(embedded.port).start()
        edge.data(DEVICE, {"Count": 31, "Drive/Current": 1250.0})
        wait_for(lambda: sink.values(PREFIX + "Count")[-1:] == [31.0], what="DDATA")
        edge.stop()
        health = host.connector_health("spb")
        wait_for(lambda: health.device_state(f"{GROUP}/{NODE}") is LinkState.LOST, what="NDEATH")
        wait_for(
            lambda: (
                [r.quality for r in sink.rows if r.address == PREFIX + "Count"][-1:]
                == [Quality.BAD]
            ),
            what="stale",
        )
    assert sink.values(PREFIX + "Drive/Current")[:2] == [5500.0, 1250.0]
    assert sink.rejected() == 0

"""Option checks: a bad topic entry is refused at start-up with the option and the reason."""

from __future__ import annotations

import pytest

from omp.connectors.host import connector_specs
from omp.connectors.mqtt import MqttJsonOptions
from omp.core.errors import ConfigError
from tests.connectors.mqtt.helpers import PLUGINS, model
from tests.connectors.support import registry_of


def specs_of(topic: str) -> object:
    body = f"    url: mqtt://broker:1883\n    topics:\n      - {topic}\n"
    return connector_specs(registry_of(model(body)), PLUGINS)


@pytest.mark.parametrize(
    ("topic", "message"),
    [
        ("{filter: 'a/#/b'}", "'#' may only be the last level"),
        ("{filter: 'a/b+'}", "must fill a whole level"),
        ("{filter: '$share/a'}", "$share/<group>/<filter>"),
        ("{filter: 'a', value: 'x..y'}", "field path 'x..y' is not understood"),
        ("{filter: 'a', value: v, fields: [w]}", "use one of value, fields, readings"),
        ("{filter: 'a', name_field: id}", "name_field needs readings"),
        ("{filter: 'a', fields: 'all'}", "topics.0.fields"),
        ("{filter: 'a', timestamp_format: epoch_min}", "topics.0.timestamp_format"),
        ("{filter: 'a', colour: red}", "topics.0.colour"),
    ],
)
def test_a_bad_topic_entry_is_named(topic: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        specs_of(topic)
    assert "connector 'feed'" in str(caught.value)
    assert message in str(caught.value)


def test_good_options_parse_into_types() -> None:
    specs = specs_of("{filter: '$share/omp/plant/#', readings: data.r, timestamp_field: t}")
    options = specs["feed"].options  # type: ignore[index]
    assert isinstance(options, MqttJsonOptions)
    assert (options.qos, options.clean_session, options.inflight) == (1, False, 1000)
    assert options.topics[0].readings == "data.r"

"""The unified-namespace topic scheme.

Topics are ``omp/v1/<enterprise>/<site>/<area>/<line>/<cell>/<equipment>/<signal>``.

A signal's path (its unified-namespace address inside omp) is the topic
without the ``omp/v1/`` root. Events go under ``<equipment path>/_events/<kind>``.

>>> signal_topic("acme/munich/body_shop/line_1/cell_a/press_01/force")
'omp/v1/acme/munich/body_shop/line_1/cell_a/press_01/force'
>>> event_topic("acme/munich/body_shop/line_1/cell_a/press_01", "state_change")
'omp/v1/acme/munich/body_shop/line_1/cell_a/press_01/_events/state_change'
"""

from __future__ import annotations

UNS_ROOT = "omp/v1"


def signal_topic(path: str) -> str:
    """The MQTT topic of a signal path."""
    return f"{UNS_ROOT}/{path}"


def event_topic(asset_path: str, kind: str) -> str:
    """The MQTT topic for events of one kind on one asset."""
    return f"{UNS_ROOT}/{asset_path}/_events/{kind}"

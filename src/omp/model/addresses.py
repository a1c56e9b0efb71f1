"""The shape of a source address, per protocol: caught in the model, not at connect time.

Only the shape is checked (a connector still decides whether the address
exists on the device):

* opcua: a NodeId, ``ns=``/``nsu=`` optional: ``ns=2;s=Mill01.Spindle.Temperature``, ``i=2258``
* modbus: ``<table>:<register>[:<type>]``: ``holding:40001:float32``, ``coil:17``
* mqtt: one topic without wildcards: ``munich/packaging/filler01/product-temp``
* sparkplug: ``<group>/<edge node>/<device>/<metric>``, the metric may hold ``/``:
  ``packaging/eol/pal01/Drive/Current``

>>> address_problem(Protocol.MODBUS, "holding:40001:float32") is None
True
"""

from __future__ import annotations

import re

from omp.model.kinds import Protocol

_NODE_ID = re.compile(
    r"^(?:(?:ns=\d+|nsu=[^;]+);)?(?:i=\d+|s=.+|g=[0-9a-fA-F-]{36}|b=[A-Za-z0-9+/=]+)$"
)
_MODBUS = re.compile(r"^(?:coil|discrete|input|holding):\d{1,6}(?::[a-z][a-z0-9_]*)?$")

_RULES: dict[Protocol, str] = {
    Protocol.OPCUA: "an OPC UA NodeId such as 'ns=2;s=Mill01.Spindle.Temperature' or 'i=2258'",
    Protocol.MODBUS: "'<coil|discrete|input|holding>:<register>[:<type>]' like 'holding:40001'",
    Protocol.MQTT: "one MQTT topic without the wildcards '+' and '#'",
    Protocol.SPARKPLUG: "'<group>/<edge node>/<device>/<metric>'",
}


def address_problem(protocol: Protocol, address: str) -> str | None:
    """What is wrong with ``address`` for ``protocol``, or None when its shape is right."""
    if _fits(protocol, address):
        return None
    return f"address {address!r} is not {_RULES[protocol]}"


def _fits(protocol: Protocol, address: str) -> bool:
    if protocol is Protocol.OPCUA:
        return _NODE_ID.match(address) is not None
    if protocol is Protocol.MODBUS:
        return _MODBUS.match(address) is not None
    levels = address.split("/")
    if any(char in address for char in "+#") or "" in levels or address != address.strip():
        return False
    return protocol is Protocol.MQTT or len(levels) >= 4

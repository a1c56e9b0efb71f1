"""The shape of a source address, per protocol: caught in the model, not at connect time.

Only the shape is checked (a connector still decides whether the address
exists on the device):

* opcua: a NodeId, ``ns=``/``nsu=`` optional: ``ns=2;s=Mill01.Spindle.Temperature``, ``i=2258``,
  or a browse path from a known node, each step with its namespace index:
  ``path=/Objects/2:Machines/2:Mill01/2:Temperature``
* modbus: ``[<unit id>:]<table>:<register>[:<type>[:<order>]]``: ``holding:40001:float32``,
  ``coil:17``, ``3:input:100:int32:cdab``, ``holding:200:string16``. The register is the
  zero-based protocol address (0-65535); types are int16, uint16, int32, uint32, int64,
  uint64, float32, float64 and string<bytes>; the order names the bytes of the value from
  the first register on (abcd big-endian, cdab word-swapped, badc byte-swapped, dcba
  little-endian). Coils and discrete inputs take no type.
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
_OPCUA_PATH = re.compile(r"^path=(?:/(?:\d+:)?[^/:][^/]*)+$")
_MODBUS = re.compile(
    r"^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d):)?"  # unit id 0-255
    r"(?:(?:coil|discrete):(?P<bit>\d{1,5})"
    r"|(?:input|holding):(?P<register>\d{1,5})"
    r"(?::(?:u?int(?:16|32|64)|float(?:32|64)|string\d{1,3})(?::(?:abcd|badc|cdab|dcba))?)?)$"
)

_RULES: dict[Protocol, str] = {
    Protocol.OPCUA: (
        "an OPC UA NodeId such as 'ns=2;s=Mill01.Spindle.Temperature' or 'i=2258', or a "
        "browse path such as 'path=/Objects/2:Machines/2:Mill01/2:Temperature'"
    ),
    Protocol.MODBUS: (
        "'[<unit id>:]<coil|discrete|input|holding>:<register 0-65535>[:<type>[:<order>]]' "
        "like 'holding:40001:float32'"
    ),
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
        return _NODE_ID.match(address) is not None or _OPCUA_PATH.match(address) is not None
    if protocol is Protocol.MODBUS:
        match = _MODBUS.match(address)
        return match is not None and int(match.group("bit") or match.group("register")) <= 65535
    levels = address.split("/")
    if any(char in address for char in "+#") or "" in levels or address != address.strip():
        return False
    return protocol is Protocol.MQTT or len(levels) >= 4

"""A look at each client's CONNECT before amqtt sees it: MQTT 3.1.1 only, refused clearly.

amqtt speaks MQTT 3.1.1. An MQTT 5 CONNECT carries properties that its parser
does not expect, and the client then waits for a CONNACK that never comes.
Here the protocol level is read first: a client asking for another version
gets the 3.1.1 answer "unacceptable protocol version" (CONNACK return code 1)
at once, which MQTT 5 clients such as gmqtt and paho take as the cue to retry
with 3.1.1. The bytes read are handed on to amqtt unchanged.
"""

from __future__ import annotations

import asyncio

from amqtt.adapters import StreamReaderAdapter

MQTT_311_LEVEL = 4
_CONNECT = 1
_MAX_NAME = 6  # "MQTT" (3.1.1, 5) or "MQIsdp" (3.1)
REFUSE_PROTOCOL = bytes([0x20, 0x02, 0x00, 0x01])
"""CONNACK, 2 bytes follow, no session present, return code 1: unacceptable protocol version."""


async def read_protocol_level(reader: asyncio.StreamReader) -> tuple[bytes, int | None]:
    """The bytes read so far and the CONNECT's protocol level (None: not a CONNECT we can read).

    Reads the fixed header, the protocol name and the level byte, nothing more.
    """
    head = await reader.readexactly(1)
    if head[0] >> 4 != _CONNECT:
        return head, None
    for _ in range(4):  # remaining length: 1..4 bytes, high bit says another follows
        byte = await reader.readexactly(1)
        head += byte
        if not byte[0] & 0x80:
            break
    name_length = await reader.readexactly(2)
    head += name_length
    size = int.from_bytes(name_length, "big")
    if size > _MAX_NAME:
        return head, None
    rest = await reader.readexactly(size + 1)
    return head + rest, rest[-1]


class PrefixedReader(StreamReaderAdapter):  # type: ignore[misc]  # amqtt ships no type hints
    """amqtt's stream adapter that first returns bytes already read from the stream."""

    def __init__(self, prefix: bytes, reader: asyncio.StreamReader) -> None:
        super().__init__(reader)
        self._prefix = prefix

    async def read(self, n: int = -1) -> bytes:
        if not self._prefix:
            return bytes(await super().read(n))
        if n == -1:
            data, self._prefix = self._prefix, b""
            return data
        data, self._prefix = self._prefix[:n], self._prefix[n:]
        if len(data) < n:
            data += await super().read(n - len(data))
        return data

"""``ModbusConnector``: polls one Modbus TCP host (all its unit ids) and writes setpoints back.

``run`` opens the link, plans the reads of every bound address (see
``plan``), polls each group on its own schedule (see ``poller``) and raises
``ConnectionLostError`` naming host:port when the link drops. Values are the
raw decoded numbers: the binding's scale and offset are applied by ingest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from pymodbus.client import AsyncModbusTcpClient

from omp.connectors.base import (
    ConnectionLostError,
    ConnectorSpec,
    Options,
    Session,
    WriteError,
    WriteValue,
)
from omp.connectors.modbus.addresses import ModbusAddress, Table, parse_address
from omp.connectors.modbus.codec import encode_number, encode_text, registers_of
from omp.connectors.modbus.link import DeviceRefusedError, Link, NoAnswerError
from omp.connectors.modbus.options import MAX_BITS_PER_READ, ModbusOptions
from omp.connectors.modbus.plan import plan_reads
from omp.connectors.modbus.poller import Poller
from omp.core.errors import ConfigError


class ModbusConnector:
    """See the module docstring; one instance per configured connector."""

    def __init__(self, spec: ConnectorSpec[Options]) -> None:
        if not isinstance(spec.options, ModbusOptions):
            raise ConfigError(f"connector {spec.name!r}: options are not Modbus options")
        self._spec = spec
        self._options = spec.options
        self._link: Link | None = None
        self._reported: set[str] = set()

    async def run(self, session: Session) -> None:
        grouped = self._bound_addresses(session)
        link = Link(self._options)
        try:
            await link.open()
            self._link = link
            session.health.connected()
            groups = plan_reads(grouped, self._options, session.feed.address)
            link.expect({request.unit for group in groups for request in group.requests})
            poller = Poller(session, link, self._options.connections)
            polls = [poller.run_group(group) for group in groups if group.requests]
            await _first_to_end([*polls, _watch(link)])
        finally:
            self._link = None
            link.close()

    async def write(self, address: str, value: WriteValue) -> None:
        """Write a holding register (in its address's type and order) or a coil."""
        options = self._options
        try:
            point = parse_address(
                address, default_unit=options.unit_id, default_order=options.default_order
            )
        except ConfigError as exc:
            raise WriteError(str(exc)) from None
        if point.table in (Table.INPUT, Table.DISCRETE):
            raise WriteError(
                f"modbus address {address!r} is a read-only {point.table.value} "
                "(only holding registers and coils are written)"
            )
        link = self._link
        if link is None:
            raise WriteError(f"modbus {options.host}:{options.port}: no link to write {address!r}")
        try:
            await link.call(_writer(point, value), f"writing {address!r}", point.unit)
        except DeviceRefusedError as exc:
            raise WriteError(f"modbus {link.peer}: device refused {exc}") from None
        except (NoAnswerError, ConnectionLostError) as exc:
            raise WriteError(f"modbus {link.peer}: {exc}") from None

    def _bound_addresses(self, session: Session) -> dict[str | None, list[ModbusAddress]]:
        """Every bound address by polling group; bad ones are reported and left out."""
        options = self._options
        grouped: dict[str | None, list[ModbusAddress]] = {}
        for text, binding in sorted(self._spec.bindings.items()):
            try:
                point = parse_address(
                    text, default_unit=options.unit_id, default_order=options.default_order
                )
                if binding.group is not None and binding.group not in options.groups:
                    raise ConfigError(
                        f"modbus address {text!r} names polling group {binding.group!r}, "
                        f"which the connector does not define (groups: "
                        f"{', '.join(sorted(options.groups)) or 'none'})"
                    )
                limit = MAX_BITS_PER_READ if point.table.is_bits else options.max_registers_per_read
                if point.size > limit:
                    raise ConfigError(
                        f"modbus address {text!r} spans {point.size} registers; "
                        f"one read carries at most {limit}"
                    )
            except ConfigError as exc:
                self._report(session, str(exc))
                continue
            grouped.setdefault(binding.group, []).append(point)
        return grouped

    def _report(self, session: Session, problem: str) -> None:
        session.health.error(problem)
        if problem not in self._reported:  # once per connector, not per reconnect
            self._reported.add(problem)
            session.log.error("connector %r: %s; not polled", self._spec.name, problem)


def _writer(point: ModbusAddress, value: WriteValue) -> Any:
    """The pymodbus call writing ``value`` to ``point``; ``WriteError`` when it does not fit."""
    if point.table is Table.COIL:
        if value not in (0, 1) or isinstance(value, str):
            raise WriteError(f"modbus address {point.text!r}: a coil takes 0 or 1, not {value!r}")
        state = bool(value)
        return lambda client: client.write_coil(point.register, state, device_id=point.unit)
    try:
        if point.is_text:
            if not isinstance(value, str):
                raise ValueError(f"{value!r} is not text")
            wire = encode_text(value, point.string_bytes, point.order)
        else:
            if isinstance(value, str):
                raise ValueError(f"{value!r} is not a number")
            wire = encode_number(value, point.kind, point.order)
    except (ValueError, OverflowError) as exc:
        raise WriteError(f"modbus address {point.text!r}: {exc}") from None
    registers = [int(r) for r in registers_of(wire)]

    def call(client: AsyncModbusTcpClient) -> Any:
        return client.write_registers(point.register, registers, device_id=point.unit)

    return call


async def _watch(link: Link) -> None:
    await link.lost.wait()
    raise ConnectionLostError(f"modbus {link.peer}: {link.lost_reason}")


async def _first_to_end(jobs: list[Coroutine[Any, Any, None]]) -> None:
    """Run ``jobs`` until the first ends; cancel the rest; re-raise what ended it."""
    tasks = [asyncio.create_task(job) for job in jobs]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

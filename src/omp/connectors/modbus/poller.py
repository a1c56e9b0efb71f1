"""Polling: each group reads its requests on its own fixed schedule and emits what arrives.

The schedule is a grid on the monotonic clock (``start + k * interval``), so
polls do not drift. A poll that outlasts its interval is counted as an
overrun; the next poll starts at once and the grid slots that passed
meanwhile are skipped, never caught up in a burst. An interval of 0 reads
continuously: each connection takes the next request in turn, round and
round. While the sink applies backpressure no new reads start.

Values carry the time their response arrived. A timeout or an exception
response costs only that request's values (they are not emitted) and counts
an error on its device; other requests, units and groups keep flowing.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable, Coroutine
from typing import Any

import numpy as np
from pymodbus.client import AsyncModbusTcpClient

from omp.connectors.base import Session
from omp.connectors.modbus.addresses import Table
from omp.connectors.modbus.codec import decode_text
from omp.connectors.modbus.link import Call, DeviceRefusedError, Link, NoAnswerError
from omp.connectors.modbus.plan import PollGroup, ReadRequest
from omp.core.errors import BackpressureError
from omp.core.quality import Quality
from omp.core.time import format_duration

GOOD = int(Quality.GOOD)
BACKPRESSURE_PAUSE = 0.02
"""Seconds a back-to-back group waits before asking a refusing sink again."""


class Poller:
    """Runs the polling groups of one session over one ``Link``."""

    def __init__(self, session: Session, link: Link, workers: int) -> None:
        self._session = session
        self._link = link
        self._workers = workers
        self._feed = session.feed
        self._health = session.health
        self._clock = session.clock
        self.overruns: dict[str, int] = {}
        self._readers: dict[int, Call] = {}

    async def run_group(self, group: PollGroup) -> None:
        """Poll ``group`` forever on its grid; returns only by cancellation or link loss."""
        if group.interval_us == 0:
            await self._run_back_to_back(group.requests)
            return
        interval = group.interval_us
        start = time.monotonic_ns() // 1000
        slot = 0
        while True:
            polled = self._ready()
            if polled:
                await self.poll(group.requests)
            now = time.monotonic_ns() // 1000
            slot, skipped = next_slot(slot, start=start, interval=interval, now=now)
            due = start + slot * interval
            if now < due:
                await asyncio.sleep((due - now) / 1e6)
            elif polled:  # a late wake-up while held by backpressure is no overrun
                self._overran(group, skipped)

    async def _run_back_to_back(self, requests: list[ReadRequest]) -> None:
        """Interval 0: every connection reads the next request in turn, round and round,
        so no connection waits for the slowest read of a poll."""
        turn = itertools.cycle(requests)

        async def worker() -> None:
            while True:
                if self._ready():
                    await self.read(next(turn))
                else:
                    await asyncio.sleep(BACKPRESSURE_PAUSE)

        await self._all(worker, min(self._workers, len(requests)))

    async def poll(self, requests: list[ReadRequest]) -> None:
        """Every request once, ``workers`` at a time (one per connection)."""
        pending = iter(requests)

        async def worker() -> None:
            for request in pending:
                await self.read(request)

        await self._all(worker, min(self._workers, len(requests)))

    @staticmethod
    async def _all(worker: Callable[[], Coroutine[Any, Any, None]], workers: int) -> None:
        """Run ``workers`` copies of ``worker``; the first to fail stops the others."""
        if workers == 1:
            await worker()
            return
        tasks = [asyncio.create_task(worker()) for _ in range(workers)]
        try:
            await asyncio.gather(*tasks)
        finally:  # a lost link ends the poll: stop the other workers too
            for task in tasks:
                task.cancel()

    async def read(self, request: ReadRequest) -> None:
        """One read: emit its values, or count its failure on its device."""
        reader = self._readers.get(id(request))
        if reader is None:
            reader = self._readers[id(request)] = _reader(request)
        try:
            response = await self._link.call(reader, request.label, request.unit)
        except NoAnswerError as exc:
            self._health.lost(str(exc), device=request.device)
            return
        except DeviceRefusedError as exc:
            self._health.connected(device=request.device)  # it answered: reachable
            self._health.error(str(exc), device=request.device)
            return
        finally:
            _stop_if_cancelled()
        ts = self._clock()
        if request.table.is_bits:
            emitted = self._emit_bits(request, response.bits, ts)
        else:
            emitted = self._emit_registers(request, getattr(response, "raw", b""), ts)
        self._health.connected(device=request.device)
        if not emitted:
            return
        self._health.received(request.values, device=request.device)
        # Under backpressure the rows are kept; ``_ready`` holds new polls until a flush succeeds.
        with contextlib.suppress(BackpressureError):
            self._feed.flush_if_full()

    def _emit_registers(self, request: ReadRequest, raw: bytes, ts: int) -> bool:
        if len(raw) < 2 * request.count:
            return self._short(request, len(raw) // 2)
        wire = np.frombuffer(raw, dtype=np.uint8)
        decoder = request.numbers
        if decoder is not None:
            feed, size = self._feed, decoder.size
            feed.rows_address.extend(decoder.indices)
            feed.rows_ts.extend([ts] * size)
            feed.rows_value.extend(decoder.numbers(wire).tolist())
        for index, address in request.texts:
            first = 2 * (address.register - request.start)
            text = decode_text(
                wire[first : first + 2 * address.size], address.string_bytes, address.order
            )
            self._feed.add_text(index, ts, text)
        return True

    def _emit_bits(self, request: ReadRequest, bits: list[bool], ts: int) -> bool:
        if len(bits) < request.count:
            return self._short(request, len(bits))
        add = self._feed.add
        for index, offset in request.bits:
            add(index, ts, 1.0 if bits[offset] else 0.0)
        return True

    def _short(self, request: ReadRequest, got: int) -> bool:
        """A well-formed answer that carries fewer values than asked: counted, not emitted."""
        self._health.error(
            f"{request.label}: answer holds {got} values, expected {request.count}",
            device=request.device,
        )
        return False

    def _ready(self) -> bool:
        """False while the feed is full: the host's flusher retries the sink meanwhile."""
        return self._feed.pending < self._feed.max_points

    def _overran(self, group: PollGroup, skipped: int) -> None:
        count = self.overruns[group.name] = self.overruns.get(group.name, 0) + 1
        if count == 1:
            self._session.log.warning(
                "modbus polling group %r overran its %s interval (reads take longer)",
                group.name,
                format_duration(group.interval_us),
            )
        self._health.error(
            f"polling group {group.name!r} overran its {format_duration(group.interval_us)} "
            f"interval {count} times ({skipped} polls skipped this time)"
        )


def next_slot(slot: int, *, start: int, interval: int, now: int) -> tuple[int, int]:
    """After polling ``slot`` (due at ``start + slot * interval``), the slot to poll next
    and how many slots are skipped to reach it. A slot already due is polled at once.

    >>> next_slot(0, start=0, interval=100, now=30)  # on time: slot 1, at 100
    (1, 0)
    >>> next_slot(0, start=0, interval=100, now=130)  # slot 1 is due: poll it now, late
    (1, 0)
    >>> next_slot(0, start=0, interval=100, now=350)  # slots 1 and 2 passed: poll slot 3 now
    (3, 2)
    """
    following = slot + 1
    if now < start + following * interval:
        return following, 0
    latest = (now - start) // interval
    return latest, latest - following


def _stop_if_cancelled() -> None:
    """Honour a cancellation that a library's ``wait_for`` swallowed.

    On Python 3.11 ``asyncio.wait_for`` (which pymodbus awaits for every answer)
    drops a cancellation that arrives as the answer does; the task still counts
    it in ``cancelling()``. Without this check a busy poll loop could outlive
    the host's stop.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _reader(request: ReadRequest) -> Call:
    """The pymodbus call that performs ``request``."""
    address, count, unit = request.start, request.count, request.unit
    table = request.table

    def call(client: AsyncModbusTcpClient) -> Any:
        if table is Table.HOLDING:
            return client.read_holding_registers(address, count=count, device_id=unit)
        if table is Table.INPUT:
            return client.read_input_registers(address, count=count, device_id=unit)
        if table is Table.COIL:
            return client.read_coils(address, count=count, device_id=unit)
        return client.read_discrete_inputs(address, count=count, device_id=unit)

    return call

"""The dispatcher: claims due parts from the queue, routes them, keeps connectors busy,
and records every outcome (Postfix's queue manager, STYLE.md).

Claims are leases: a crashed process's claims come back when they run out (or at once on a
single-node restart). Per connector, parts go out in the order they were claimed; the
connector's window and TPS bound what is in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from smsgate.domain.numbers import normalize
from smsgate.domain.retry import next_attempt
from smsgate.domain.routing import RoutingTable
from smsgate.domain.states import Status
from smsgate.services.clock import Clock
from smsgate.services.delivery import DeliveryService, InFlight
from smsgate.services.ports import Connector, OutboundPart, OutcomeKind, SubmitOutcome
from smsgate.services.records import Change, Part
from smsgate.services.store_port import StorePort

log = logging.getLogger(__name__)

DOWN_RETRY_S = 2.0


class Dispatcher:
    def __init__(
        self,
        *,
        store: StorePort,
        clock: Clock,
        delivery: DeliveryService,
        connectors: Mapping[str, Connector],
        routing: RoutingTable,
        batch: int = 500,
        lease_s: float = 60.0,
        poll_s: float = 0.5,
        max_in_flight: int = 2000,
        expiry_sweep_s: float = 1.0,
    ) -> None:
        self._store = store
        self._clock = clock
        self._delivery = delivery
        self._connectors = connectors
        self._routing = routing
        self._batch = batch
        self._lease_s = lease_s
        self._poll_s = poll_s
        self._max_in_flight = max_in_flight
        self._expiry_sweep_s = expiry_sweep_s
        self._wakeup = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._sweep_task: asyncio.Task[None] | None = None
        self.submitted = 0

    def wake(self) -> None:
        self._wakeup.set()

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def start(self) -> None:
        self._loop_task = asyncio.create_task(self._run(), name="dispatcher")
        self._sweep_task = asyncio.create_task(self._sweep(), name="expiry-sweeper")

    async def stop(self, *, drain_s: float = 5.0) -> None:
        """Stop claiming, give in-flight submits a moment to finish, then cancel the rest."""
        for task in (self._loop_task, self._sweep_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=drain_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._delivery.drain()

    async def _run(self) -> None:
        while True:
            room = self._max_in_flight - len(self._tasks)
            claimed = 0
            # With every link down, claiming would only push the queue back again and again;
            # a link coming up wakes us.
            any_up = not self._connectors or any(c.is_up for c in self._connectors.values())
            if room > 0 and any_up:
                try:
                    claimed = await self._claim(min(self._batch, room))
                except Exception:
                    log.exception("claiming due parts failed")
            if claimed == 0 or len(self._tasks) >= self._max_in_flight or not any_up:
                self._wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_s):
                        await self._wakeup.wait()

    async def _claim(self, limit: int) -> int:
        now = self._clock.now()
        due = await self._store.claim_due(now=now, limit=limit, lease_s=self._lease_s)
        count = 0
        for item in due:
            entry = self._delivery.tracker.messages.get(item.message.id)
            if entry is None:
                parts = list(item.parts)
                if len(parts) != item.message.parts:
                    parts = await self._store.get_parts(item.message.id)
                entry = self._delivery.tracker.track(
                    item.message,
                    {p.seq: p.status for p in parts},
                    {p.seq: p.receipt_requested for p in parts},
                )
            for part in item.parts:
                entry.parts[part.seq] = Status.SENDING
                task = asyncio.create_task(self._send(entry, part, item.attempts[part.seq]))
                self._tasks.add(task)
                task.add_done_callback(self._done)
                count += 1
        return count

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("sending a part failed", exc_info=task.exception())
        if len(self._tasks) < self._max_in_flight // 2:
            self._wakeup.set()

    async def _send(self, entry: InFlight, part: Part, attempts: int) -> None:
        changes = await self._outcome(entry, part, attempts)
        await self._delivery.commit(changes)

    async def _outcome(self, entry: InFlight, part: Part, attempts: int) -> list[Change]:
        message = entry.message
        now = self._clock.now()
        if message.valid_until is not None and now >= message.valid_until:
            return await self._delivery.finished(
                entry,
                part.seq,
                Status.EXPIRED,
                error_code="expired",
                error_message="the validity ended before the message could be sent",
                attempts=attempts,
            )
        number = normalize(message.to_addr)
        candidates = self._routing.candidates(number.digits, number.country)
        if not candidates:
            return await self._delivery.finished(
                entry,
                part.seq,
                Status.FAILED,
                error_code="no_route",
                error_message="no route to this destination",
                attempts=attempts,
            )
        up = [
            name for name in candidates if name in self._connectors and self._connectors[name].is_up
        ]
        if not up:
            return await self._delivery.retry_later(
                entry,
                part.seq,
                due_at=now + DOWN_RETRY_S,
                attempts=attempts,
                error_code="no_connector_up",
            )
        outbound = _outbound(message.id, part, message.from_addr, number.digits, entry)
        last: SubmitOutcome | None = None
        for name in up:
            outcome = await self._connectors[name].submit(outbound)
            self.submitted += 1
            if outcome.kind == OutcomeKind.OK and outcome.smsc_id is not None:
                return await self._delivery.submitted(
                    entry, part.seq, name, outcome.smsc_id, attempts + 1
                )
            if outcome.kind == OutcomeKind.PERMANENT:
                return await self._delivery.finished(
                    entry,
                    part.seq,
                    Status.FAILED,
                    error_code=outcome.error or "rejected",
                    error_message=f"the SMSC refused the message ({outcome.error})",
                    attempts=attempts + 1,
                    connector=name,
                )
            last = outcome  # transient: fail over to the next connector
        attempts += 1
        error = last.error if last is not None else "transient"
        retry_at = next_attempt(
            attempts,
            datetime.fromtimestamp(now, UTC),
            datetime.fromtimestamp(message.valid_until, UTC) if message.valid_until else None,
        )
        if retry_at is None:
            return await self._delivery.finished(
                entry,
                part.seq,
                Status.FAILED,
                error_code="retries_exhausted",
                error_message=f"no SMSC accepted the message before its validity ended ({error})",
                attempts=attempts,
            )
        return await self._delivery.retry_later(
            entry, part.seq, due_at=retry_at.timestamp(), attempts=attempts, error_code=error
        )

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(self._expiry_sweep_s)
            try:
                await self._delivery.expire_overdue()
            except Exception:
                log.exception("expiry sweep failed")


def _outbound(
    message_id: str, part: Part, sender: str, digits: str, entry: InFlight
) -> OutboundPart:
    message = entry.message
    return OutboundPart(
        part_id=f"{message_id}.{part.seq}",
        message_id=message_id,
        seq=part.seq,
        total=part.total,
        source=sender[1:] if sender.startswith("+") else sender,
        source_ton=message.from_ton,
        source_npi=message.from_npi,
        destination=digits,
        short_message=part.short_message,
        esm_class=part.esm_class,
        data_coding=part.data_coding,
        registered_delivery=True,
        validity_until=datetime.fromtimestamp(message.valid_until, UTC)
        if message.valid_until
        else None,
    )

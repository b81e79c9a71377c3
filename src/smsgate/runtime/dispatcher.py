"""The dispatcher: claims due parts from the queue, routes them, keeps connectors busy,
and records every outcome (Postfix's queue manager, STYLE.md).

Claims are leases: a crashed process's claims come back when they run out (or at once on a
single-node restart). Per connector, parts go out in the order they were claimed; the
connector's window and TPS bound what is in flight.

Messages accepted by this process may skip the claim (`Handoff`, services/ports.py): while
the queue holds nothing due that came before them and there is room, they are committed
already claimed and handed over from memory after the commit. A hand-off that comes after a
message that had to be queued waits until a claim has taken that one (order is kept).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from smsgate.domain.numbers import normalize
from smsgate.domain.retry import next_attempt
from smsgate.domain.routing import RoutingTable
from smsgate.domain.states import Status
from smsgate.runtime.handoff import HandoffBook, Waiting
from smsgate.services.clock import Clock
from smsgate.services.delivery import DeliveryService, InFlight
from smsgate.services.ports import (
    Connector,
    HandoffSlot,
    OutboundPart,
    OutcomeKind,
    SubmitOutcome,
)
from smsgate.services.records import Change, DueMessage, OutboxChange, Part
from smsgate.services.store_port import StorePort
from smsgate.smpp.constants import EsmClass

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
        monotonic: Callable[[], float] = time.monotonic,
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
        self._monotonic = monotonic  # how long hand-offs have waited (tests step it)
        self._wakeup = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._sweep_task: asyncio.Task[None] | None = None
        self.submitted = 0
        self.handed_off = 0  # parts taken from memory instead of claimed
        self._running = False
        self._caught_up = False  # the last claim took every due part
        self._handoffs = HandoffBook()
        self._waiting = False  # the loop waits for a wake or its poll
        # Set each time the loop goes to wait and each time a part is done: what to watch
        # (after clearing it) for `idle` and `in_flight` to change, instead of sleeping.
        self.progress = asyncio.Event()

    def wake(self) -> None:
        self._wakeup.set()

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    @property
    def idle(self) -> bool:
        """The loop went round since the last wake and waits; parts may still be in flight."""
        return self._waiting and not self._wakeup.is_set()

    def _busy(self) -> int:
        book = self._handoffs
        return len(self._tasks) + book.reserved_parts + book.waiting_parts

    def _any_up(self) -> bool:
        return not self._connectors or any(c.is_up for c in self._connectors.values())

    # ---- hand-off (services/ports.py Handoff, runtime/handoff.py) ------------------------

    def reserve(self, parts: int, now: float) -> HandoffSlot | None:
        """Room for freshly accepted parts, or None: queue them (the order is kept)."""
        book = self._handoffs
        ticket = book.next_ticket()
        if (
            self._running
            and self._caught_up
            and self._busy() + parts <= self._max_in_flight
            # Waiting hand-offs never fill the room claims need to catch up with.
            and (not book.behind_queue or book.waiting_parts + parts <= self._max_in_flight // 2)
            and self._any_up()
        ):
            book.grant(ticket, parts)
            return HandoffSlot(ticket=ticket, parts=parts, claimed_until=now + self._lease_s)
        book.refuse(ticket)
        return None

    def release(self, slot: HandoffSlot) -> None:
        """The commit failed (or its caller went away): the room is free again."""
        self._handoffs.release(slot.ticket)

    def take(self, slot: HandoffSlot, due: Sequence[DueMessage]) -> None:
        """The parts are committed, claimed by us (stored `sending`, as a claim leaves them;
        `due` holds them as accepted): send them, after earlier queued ones."""
        book = self._handoffs
        book.release(slot.ticket)
        if not self._running:
            # Stopping: they stay claimed until a restart releases them (as claimed parts
            # whose sending was cut short).
            return
        if book.must_wait(slot.ticket):
            book.park(Waiting(slot.ticket, self._monotonic(), slot.parts, due))
            self._wakeup.set()  # a claim clears the way
            return
        self.handed_off += self._start_parts(due, handed_off=True)

    async def _requeue(self, waiting: list[Waiting]) -> None:
        """Put parked hand-offs back in the queue in their turn (due when they were
        accepted); claims then take them like any queued message."""
        if not waiting:
            return
        changes: list[Change] = [
            OutboxChange(message_id=m.message.id, seq=p.seq, due_at=m.message.created_at)
            for w in waiting
            for m in w.due
            for p in m.parts
        ]
        await self._store.apply(changes)  # before the next claim is queued
        for w in waiting:
            self._handoffs.refuse(w.ticket)

    async def start(self) -> None:
        self._running = True
        self._loop_task = asyncio.create_task(self._run(), name="dispatcher")
        self._sweep_task = asyncio.create_task(self._sweep(), name="expiry-sweeper")

    async def stop(self, *, drain_s: float = 5.0) -> None:
        """Stop claiming, give in-flight submits a moment to finish, then cancel the rest."""
        self._running = False
        for task in (self._loop_task, self._sweep_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        try:
            await self._requeue(self._handoffs.drain())
        except Exception:  # they stay claimed: due again after a restart or their lease
            log.exception("queueing waiting hand-offs failed")
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=drain_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._delivery.drain()

    async def _run(self) -> None:
        while True:
            # Cleared before the claim: a wake while it runs (a message queued meanwhile, a
            # hand-off parked behind one) makes the loop go round again instead of sleeping.
            self._wakeup.clear()
            # A lease must not run out while its parts wait here: after a quarter of it,
            # they go back to the queue.
            stale = self._handoffs.stale(self._monotonic() - self._lease_s / 4)
            try:
                await self._requeue(stale)
            except Exception:
                log.exception("queueing waiting hand-offs failed")
            room = self._max_in_flight - self._busy()
            claimed = 0
            # With every link down, claiming would only push the queue back again and again;
            # a link coming up wakes us.
            any_up = self._any_up()
            if room > 0 and any_up:
                try:
                    claimed = await self._claim(min(self._batch, room))
                except Exception:
                    log.exception("claiming due parts failed")
            if claimed == 0 or claimed >= room or not any_up:
                self._waiting = True
                self.progress.set()
                try:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self._poll_s):
                            await self._wakeup.wait()
                finally:
                    self._waiting = False

    async def _claim(self, limit: int) -> int:
        # Everything queued before this point is in the claim's view (the writer runs it
        # after the writes queued before it).
        ticket = self._handoffs.ticket
        now = self._clock.now()
        due = await self._store.claim_due(now=now, limit=limit, lease_s=self._lease_s)
        tracker = self._delivery.tracker
        for item in due:
            if item.message.id not in tracker.messages and len(item.parts) != item.message.parts:
                # Some of the parts only (the others sent or waiting): the states of all.
                parts = await self._store.get_parts(item.message.id)
                tracker.track(
                    item.message,
                    {p.seq: p.status for p in parts},
                    {p.seq: p.receipt_requested for p in parts},
                )
        count = self._start_parts(due)
        self._caught_up = count < limit
        if self._caught_up:
            for waiting in self._handoffs.claimed_all(ticket):
                self.handed_off += self._start_parts(waiting.due, handed_off=True)
        return count

    def _start_parts(self, due: Sequence[DueMessage], *, handed_off: bool = False) -> int:
        """Track the messages and start one task per part; the number of parts."""
        count = 0
        for item in due:
            entry = self._delivery.tracker.messages.get(item.message.id)
            if entry is None:
                entry = self._delivery.tracker.track(
                    item.message,
                    {p.seq: p.status for p in item.parts},
                    {p.seq: p.receipt_requested for p in item.parts},
                )
            if handed_off:  # as accepted in memory; stored `sending`, as a claim leaves it
                entry.changed["status"] = Status.SENDING
            for part in item.parts:
                entry.parts[part.seq] = Status.SENDING
                task = asyncio.create_task(self._send(entry, part, item.attempts[part.seq]))
                self._tasks.add(task)
                task.add_done_callback(self._done)
                count += 1
        return count

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self.progress.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("sending a part failed", exc_info=task.exception())
        # Room for more: claim again if the queue may hold due parts (else hand-offs fill it).
        backlog = not self._caught_up or self._handoffs.behind_queue
        if backlog and len(self._tasks) < self._max_in_flight // 2:
            self._wakeup.set()

    async def _send(self, entry: InFlight, part: Part, attempts: int) -> None:
        changes = await self._outcome(entry, part, attempts)
        await self._delivery.commit(changes)

    async def _outcome(self, entry: InFlight, part: Part, attempts: int) -> list[Change]:
        message = entry.base  # what is read here never changes while sending
        now = self._clock.now()
        if len(entry.parts) < message.parts:
            # Not all its parts exist: an ESME sent a concatenated message whose group never
            # completed (services/client_parts.py holds the parts it has until then).
            return await self._delivery.abandon(
                entry,
                error_code="incomplete_concatenation",
                error_message=(
                    f"only {len(entry.parts)} of the {message.parts} parts of the "
                    "concatenated message arrived"
                ),
            )
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
        known = [(n, self._connectors[n]) for n in candidates if n in self._connectors]
        up = [(n, c) for n, c in known if c.is_up]
        if not up:
            # A link that dropped a moment ago is rebinding: its connector keeps the part in
            # its place (per-connector order) and gives it back if the link stays down.
            up = [(n, c) for n, c in known if c.rebinding][:1]
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
        for name, connector in up:
            outcome = await connector.submit(outbound)
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


_UDHI = int(EsmClass.UDHI)  # a plain int: IntFlag arithmetic is slow on this path


def _outbound(
    message_id: str, part: Part, sender: str, digits: str, entry: InFlight
) -> OutboundPart:
    message = entry.base
    return OutboundPart(
        part_id=f"{message_id}.{part.seq}",
        message_id=message_id,
        seq=part.seq,
        total=part.total,
        source=sender,
        destination=digits,
        short_message=part.short_message,
        udh=bool(part.esm_class & _UDHI),
        data_coding=part.data_coding,
        registered_delivery=True,
        validity_until=datetime.fromtimestamp(message.valid_until, UTC)
        if message.valid_until
        else None,
    )

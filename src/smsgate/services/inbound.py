"""Inbound (mobile-originated) messages: reassembled when concatenated, stored as received,
never lost once acknowledged (DESIGN.md §2, §7).

Connectors hand over one segment at a time (`InboundEvent`, text already decoded by its
data_coding) and answer the SMSC only after `on_inbound` returns. So everything here is
committed before it returns:

- a single message is stored with everything it changes (`TwoWayService.plan`) in one commit;
- each part of a concatenated one (UDH 8/16-bit, SAR, in any order, duplicates ignored) is a
  row of `inbound_parts`; the part that completes the set stores the message and marks the
  parts done in the same commit. A process killed at any point after a deliver_sm_resp finds
  the parts in the database when it starts again;
- a periodic sweep stores the sets that stay incomplete longer than the reassembly timeout
  as what arrived, flagged with error code `incomplete` (and finishes complete sets a crash
  left between the two commits).
"""

from __future__ import annotations

from smsgate.services.clock import Clock
from smsgate.services.ports import InboundEvent
from smsgate.services.two_way import InboundText, TwoWayService
from smsgate.services.two_way_records import PartKey, PendingParts, TwoWayStorePort


class InboundService:
    """The gateway's `on_inbound`, plus the sweep of incomplete part sets."""

    def __init__(
        self,
        store: TwoWayStorePort,
        clock: Clock,
        two_way: TwoWayService,
        *,
        reassembly_timeout_s: float = 600.0,
        sweep_every_s: float | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._two_way = two_way
        self._timeout_s = reassembly_timeout_s
        self.sweep_every_s = sweep_every_s or max(1.0, min(60.0, reassembly_timeout_s / 4))
        self.received = 0
        self.incomplete = 0
        self.duplicates = 0

    async def on_inbound(self, event: InboundEvent) -> None:
        now = self._clock.now()
        concat = event.concat
        if concat is None or concat[1] <= 1 or not 1 <= concat[2] <= concat[1]:
            # Not concatenated (or nonsense concatenation info): the text is the message.
            await self._store_whole(event, now)
            return
        ref, total, seq = concat
        key = PartKey(
            connector=event.connector,
            source=event.source,
            destination=event.destination,
            ref=ref,
            total=total,
        )
        pending = await self._store.add_part(key, seq, event.text, event.data_coding, now=now)
        if pending is None:
            self.duplicates += 1
            return
        if pending.complete:
            await self._finish(pending, now=now)

    async def _store_whole(self, event: InboundEvent, now: float) -> None:
        mo = InboundText(
            connector=event.connector,
            source=event.source,
            destination=event.destination,
            text=event.text,
            data_coding=event.data_coding,
            parts=1,
            received_at=now,
        )
        plan = await self._two_way.plan(mo)
        await self._store.store_received(plan.received, plan.unrouted)
        self.received += 1
        await self._two_way.carry_out(plan)

    async def _finish(self, pending: PendingParts, *, now: float) -> None:
        key = pending.key
        mo = InboundText(
            connector=key.connector,
            source=key.source,
            destination=key.destination,
            text=pending.joined(),
            data_coding=pending.data_coding,
            parts=key.total,
            incomplete=not pending.complete,
            received_at=now,
        )
        plan = await self._two_way.plan(mo)
        if not await self._store.finish_parts(key, plan.received, plan.unrouted, now=now):
            self.duplicates += 1  # a concurrent duplicate of the last part finished it
            return
        self.received += 1
        self.incomplete += 0 if pending.complete else 1
        await self._two_way.carry_out(plan)

    async def sweep(self, now: float | None = None) -> int:
        """Store complete sets left behind and sets older than the timeout; forget finished
        sets once no duplicate of them can be expected. Returns the messages stored.

        Once at start-up (before the connectors), then every `sweep_every_s` (the
        scheduler, runtime/scheduler.py)."""
        if now is None:
            now = self._clock.now()
        stored = 0
        for pending in await self._store.pending_parts(older_than=None):
            if pending.complete or pending.first_at <= now - self._timeout_s:
                await self._finish(pending, now=now)
                stored += 1
        await self._store.purge_parts(before=now - self._timeout_s)
        return stored

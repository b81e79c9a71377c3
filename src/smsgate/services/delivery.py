"""Outcomes of submits, delivery receipts and expiry, turned into status changes.

The tracker keeps the messages in flight in memory (message, part states, SMSC ids) so the hot
path reads nothing; after a restart, or for a message evicted from it, the store is read.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from smsgate.domain.smsc_ids import normalize_message_id
from smsgate.domain.states import FINAL, Status, aggregate
from smsgate.services.batching import ChangeBatcher
from smsgate.services.clock import Clock
from smsgate.services.events import MESSAGE_STATUS, deliveries_for
from smsgate.services.ports import ReceiptEvent
from smsgate.services.records import (
    Change,
    Message,
    MessageChange,
    NewDelivery,
    NewSmppDelivery,
    OutboxChange,
    PartChange,
    StatusEvent,
)
from smsgate.services.store_port import StorePort

log = logging.getLogger(__name__)


def smsc_key(smsc_id: str) -> str:
    """The stored form of an SMSC message id: trimmed, lower case, no leading zeros."""
    return smsc_id.strip().lower().lstrip("0") or "0"


def receipt_candidates(smsc_id: str, id_format: str = "auto") -> tuple[str, ...]:
    """Stored forms a receipt id may match, whatever the SMSC's hex/decimal/case habits.

    Many SMSCs answer submit_sm with a hex id and write the receipt id in decimal (or the
    reverse). `auto` tries every reading; any other setting of the connector's `id_format`
    says both use the same form, so only the exact (case- and zero-insensitive) id matches.
    """
    if id_format != "auto":
        return (smsc_key(smsc_id),)
    return tuple(dict.fromkeys(smsc_key(c) for c in normalize_message_id(smsc_id)))


def first_candidate(smsc_id: str, id_format: str = "auto") -> str:
    """`receipt_candidates(...)[0]`, without working out the other readings: the literal
    form, which is what most receipts match (a test holds the two together)."""
    if id_format != "auto":
        return smsc_key(smsc_id)
    raw = smsc_id.strip().lower()
    if raw.startswith("0x") and len(raw) > 2:  # as normalize_message_id reads it
        raw = raw[2:]
    return raw.lstrip("0") or "0"


@dataclass(slots=True)
class InFlight:
    """A message being sent: its part states, and its own fields as they change.

    The changes are applied to the (frozen) message only when it is asked for: most outcomes
    need its status alone, and a copy of the message per outcome was a good part of the cost
    of sending one."""

    base: Message  # id, account, addresses, text, validity: never changed while sending
    parts: dict[int, str] = field(default_factory=dict)  # seq → part status
    receipts: dict[int, int] = field(default_factory=dict)  # seq → SMPP receipt asked per part
    changed: dict[str, Any] = field(default_factory=dict)  # message fields changed since base

    @property
    def message(self) -> Message:
        """The message as it stands."""
        if self.changed:
            self.base = replace(self.base, **self.changed)
            self.changed = {}
        return self.base

    def get(self, name: str) -> Any:
        """One field of the message as it stands."""
        changed = self.changed
        return changed[name] if name in changed else getattr(self.base, name)

    def for_part(self, seq: int) -> Message:
        """The message as one part's receipt sees it (the part's own receipt request); like
        `base`, for its identity and content only."""
        base = self.base
        wanted = self.receipts.get(seq)
        if wanted is None or wanted == base.receipt_requested:
            return base
        return replace(base, receipt_requested=wanted)


class Tracker:
    """Bounded in-memory view of messages being sent."""

    def __init__(self, *, max_messages: int = 200_000) -> None:
        self._max = max_messages
        self.messages: OrderedDict[str, InFlight] = OrderedDict()
        self.smsc: dict[tuple[str, str], tuple[str, int]] = {}

    def track(
        self,
        message: Message,
        part_statuses: dict[int, str],
        receipts: dict[int, int] | None = None,
    ) -> InFlight:
        entry = self.messages.get(message.id)
        if entry is None:
            entry = InFlight(message, dict(part_statuses), dict(receipts or {}))
            self.messages[message.id] = entry
            while len(self.messages) > self._max:
                self.messages.popitem(last=False)
        return entry

    def forget(self, message_id: str) -> None:
        self.messages.pop(message_id, None)

    def remember_smsc(self, connector: str, smsc_id: str, message_id: str, seq: int) -> None:
        if len(self.smsc) > self._max * 2:
            self.smsc.clear()  # the store still has every id; this only costs reads
        self.smsc[(connector, smsc_key(smsc_id))] = (message_id, seq)


# (message, seq, status, error, now) → extra changes. The message is given for its identity
# and content (id, account, addresses, text, receipt request, times of acceptance); its own
# status fields may lag behind: the status that became final is `status`. (Bringing the
# message up to date is a copy of it, for every part and message, for nothing.)
FinalHook = Callable[[Message, int | None, str, str | None, float], list[Change]]


class DeliveryService:
    """Applies what connectors report to the parts and messages."""

    def __init__(
        self,
        store: StorePort,
        clock: Clock,
        tracker: Tracker,
        *,
        on_deliveries: Callable[[], None] = lambda: None,
        on_final: FinalHook = lambda _m, _seq, _status, _err, _now: [],
        on_smpp: Callable[[str], None] = lambda _account_id: None,
    ) -> None:
        self._store = store
        self._clock = clock
        self.tracker = tracker
        self._batcher = ChangeBatcher(self._apply)
        self.unmatched_receipts = 0
        # Called after a commit that queued webhook deliveries (wakes the webhook sender).
        self.on_deliveries = on_deliveries
        # Extra changes when a part (seq) or a whole message (seq None) reaches a final status:
        # the deliver_sm receipts an SMPP customer asked for.
        self.on_final = on_final
        # Called after a commit that kept deliver_sm for an SMPP customer (its account id).
        self.on_smpp = on_smpp

    async def _apply(self, changes: Sequence[Change]) -> None:
        await self._store.apply(changes)
        if any(isinstance(c, NewDelivery) for c in changes):
            self.on_deliveries()
        for account_id in {c.account_id for c in changes if isinstance(c, NewSmppDelivery)}:
            self.on_smpp(account_id)

    async def drain(self) -> None:
        await self._batcher.drain()

    async def commit(self, changes: list[Change]) -> None:
        await self._batcher.submit(changes)

    async def _entry(self, message_id: str) -> InFlight | None:
        entry = self.tracker.messages.get(message_id)
        if entry is not None:
            return entry
        message = await self._store.get_message(message_id)
        if message is None:
            return None
        parts = await self._store.get_parts(message_id)
        return self.tracker.track(
            message,
            {p.seq: p.status for p in parts},
            {p.seq: p.receipt_requested for p in parts},
        )

    async def _message_changes(
        self, entry: InFlight, now: float, *, error: tuple[str, str] | None = None
    ) -> list[Change]:
        """Fold the part states into the message status; a change emits event and webhooks."""
        status = entry.get("status")
        new_status = aggregate([Status(s) for s in entry.parts.values()])
        if new_status == status or status in FINAL:
            return []
        base = entry.base
        was_sent_at = entry.get("sent_at")
        sent_at = now if new_status == Status.SENT or was_sent_at is None else None
        delivered_at = now if new_status == Status.DELIVERED else None
        error_code, error_message = error if error else (None, None)
        entry.changed.update(
            status=new_status,
            updated_at=now,
            error_code=error_code,
            error_message=error_message,
            sent_at=was_sent_at or (now if new_status in (Status.SENT, Status.DELIVERED) else None),
            delivered_at=delivered_at or entry.get("delivered_at"),
        )
        changes: list[Change] = []
        if new_status in FINAL:
            self.tracker.forget(base.id)
            changes += self.on_final(base, None, new_status, error_code, now)
        hooks = await self._store.webhooks_for(base.account_id, now=now)
        changes += (
            MessageChange(
                message_id=base.id,
                status=new_status,
                updated_at=now,
                error_code=error_code,
                error_message=error_message,
                connector=entry.get("connector"),
                sent_at=sent_at if new_status in (Status.SENT, Status.DELIVERED) else None,
                delivered_at=delivered_at,
            ),
            StatusEvent(
                message_id=base.id,
                seq=None,
                status=new_status,
                error_code=error_code,
                detail=error_message,
                created_at=now,
            ),
        )
        if hooks or base.callback_url:  # else no event to send: the message is not needed
            changes += deliveries_for(MESSAGE_STATUS, entry.message, hooks, now)
        return changes

    async def submitted(
        self, entry: InFlight, seq: int, connector: str, smsc_id: str, attempts: int
    ) -> list[Change]:
        """The SMSC accepted a part."""
        now = self._clock.now()
        message_id = entry.base.id
        self.tracker.remember_smsc(connector, smsc_id, message_id, seq)
        if entry.parts.get(seq) not in FINAL:
            entry.parts[seq] = Status.SENT
        entry.changed["connector"] = connector
        changes: list[Change] = [
            PartChange(
                message_id=message_id,
                seq=seq,
                status=Status.SENT,
                connector=connector,
                smsc_id=smsc_key(smsc_id),
                attempts=attempts,
                error_code=None,
                submitted_at=now,
            ),
            OutboxChange(message_id=message_id, seq=seq, due_at=None),
        ]
        changes += await self._message_changes(entry, now)
        return changes

    async def finished(
        self,
        entry: InFlight,
        seq: int,
        status: Status,
        *,
        error_code: str,
        error_message: str,
        attempts: int,
        connector: str | None = None,
    ) -> list[Change]:
        """A part ends without a receipt: failed, expired before submit, no route."""
        now = self._clock.now()
        entry.parts[seq] = status
        if connector is not None:
            entry.changed["connector"] = connector
        changes: list[Change] = [
            PartChange(
                message_id=entry.base.id,
                seq=seq,
                status=status,
                connector=connector,
                attempts=attempts,
                error_code=error_code,
                done_at=now,
            ),
            OutboxChange(message_id=entry.base.id, seq=seq, due_at=None),
            *self.on_final(entry.for_part(seq), seq, status, error_code, now),
        ]
        changes += await self._message_changes(entry, now, error=(error_code, error_message))
        return changes

    async def abandon(
        self, entry: InFlight, *, error_code: str, error_message: str
    ) -> list[Change]:
        """Every part not final yet fails unsent: the message cannot go out whole (the
        parts of an ESME-concatenated message that never all arrived)."""
        now = self._clock.now()
        changes: list[Change] = []
        for seq, status in list(entry.parts.items()):
            if status in FINAL:
                continue
            entry.parts[seq] = Status.FAILED
            changes += [
                PartChange(
                    message_id=entry.base.id,
                    seq=seq,
                    status=Status.FAILED,
                    error_code=error_code,
                    done_at=now,
                ),
                OutboxChange(message_id=entry.base.id, seq=seq, due_at=None),
                *self.on_final(entry.for_part(seq), seq, Status.FAILED, error_code, now),
            ]
        changes += await self._message_changes(entry, now, error=(error_code, error_message))
        return changes

    async def retry_later(
        self, entry: InFlight, seq: int, *, due_at: float, attempts: int, error_code: str
    ) -> list[Change]:
        entry.parts[seq] = Status.QUEUED
        message_id = entry.base.id
        changes: list[Change] = [
            PartChange(
                message_id=message_id,
                seq=seq,
                status=Status.QUEUED,
                attempts=attempts,
                error_code=error_code,
            ),
            OutboxChange(message_id=message_id, seq=seq, due_at=due_at, attempts=attempts),
        ]
        changes += await self._message_changes(entry, self._clock.now())
        return changes

    async def on_receipt(self, event: ReceiptEvent, *, id_format: str = "auto") -> None:
        """Match a receipt to its part and record it; returns after the commit."""
        known = self.tracker.smsc
        ref = known.get((event.connector, first_candidate(event.smsc_id, id_format)))
        if ref is None:
            candidates = receipt_candidates(event.smsc_id, id_format)
            for key in candidates[1:]:
                ref = known.get((event.connector, key))
                if ref is not None:
                    break
        if ref is None:
            part = await self._store.part_by_smsc(event.connector, candidates)
            if part is None:
                self.unmatched_receipts += 1
                log.warning("receipt from %s matches no part", event.connector)
                return
            ref = (part.message_id, part.seq)
        entry = await self._entry(ref[0])
        if entry is None:  # pragma: no cover - the part exists, so does its message
            return
        status = event.status
        now = self._clock.now()
        if entry.parts.get(ref[1]) in FINAL:
            return  # a repeated receipt: already recorded
        entry.parts[ref[1]] = status
        changes: list[Change] = [
            StatusEvent(
                message_id=ref[0],
                seq=ref[1],
                status=status,
                error_code=None if status == Status.DELIVERED else event.err,
                detail=event.raw[:500],
                created_at=now,
            )
        ]
        if status in FINAL:
            changes.append(
                PartChange(
                    message_id=ref[0],
                    seq=ref[1],
                    status=status,
                    error_code=None
                    if status == Status.DELIVERED
                    else f"{event.reported}:{event.err}",
                    done_at=now,
                )
            )
            self.tracker.smsc.pop((event.connector, smsc_key(event.smsc_id)), None)
            changes += self.on_final(entry.for_part(ref[1]), ref[1], status, event.err, now)
        error = None
        if status in (Status.UNDELIVERED, Status.EXPIRED):
            error = (event.reported, f"the network reported {event.reported} (err {event.err})")
        changes += await self._message_changes(entry, now, error=error)
        await self.commit(changes)

    async def expire_overdue(self, *, limit: int = 500) -> int:
        """Sent messages whose validity ended without a final receipt become expired."""
        now = self._clock.now()
        overdue = await self._store.expired_in_flight(now=now, limit=limit)
        changes: list[Change] = []
        for message in overdue:
            entry = await self._entry(message.id)
            if entry is None:  # pragma: no cover
                continue
            for seq, status in list(entry.parts.items()):
                if status not in FINAL:
                    entry.parts[seq] = Status.EXPIRED
                    changes.append(
                        PartChange(
                            message_id=message.id,
                            seq=seq,
                            status=Status.EXPIRED,
                            error_code="no_receipt",
                            done_at=now,
                        )
                    )
                    changes += self.on_final(entry.for_part(seq), seq, Status.EXPIRED, None, now)
            changes += await self._message_changes(
                entry, now, error=("no_receipt", "no delivery report before the validity ended")
            )
        if changes:
            await self.commit(changes)
        return len(overdue)

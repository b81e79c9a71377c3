"""Long messages a client split itself: one request per part (SMPP UDH or SAR parts today;
Kannel's `udh` tomorrow), gathered into one message of N parts.

Each part is stored as it arrives and keeps its own place (`<message id>.<seq>`); the parts
are held back until the last one arrives, so the message goes out whole. A group still
incomplete `hold_s` after its first part ends `failed` (error `incomplete_concatenation`,
decided by the dispatcher): nothing of it is sent. A repeated part gets the same answer. The
groups being gathered are kept in memory; a part whose group this process does not hold
(its earlier parts were committed by a process that stopped or crashed, or the group is
complete and was let go) finds it in the store; so does a part sent again because its answer
was lost (a crash, a dropped link): it gets the same answer, not a message of its own.

Protocol-neutral: the adapter decodes its requests, builds the stored `Part` and maps the
domain errors raised here (TooManyParts and what `MessageService.build` raises) to its own
statuses.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

from smsgate import codec
from smsgate.domain.states import FINAL
from smsgate.services.clock import Clock
from smsgate.services.messages import MessageService, SendRequest, check_part_count
from smsgate.services.records import (
    Account,
    Change,
    Message,
    MessageTextChange,
    NewMessage,
    OutboxChange,
    Part,
    StatusEvent,
)
from smsgate.services.store_port import StorePort

__all__ = ["PART_HOLD_S", "ClientPart", "ClientParts"]

PART_HOLD_S = 60.0
# The esm_class bit of a stored part whose short_message starts with a UDH (TS 23.040 UDHI).
_UDHI = 0x40

_GroupKey = tuple[str, str, str, int, int]  # account, sender, to, reference, total


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientPart:
    """One part of a message the client concatenated, decoded by its adapter."""

    to: str  # E.164
    sender: str
    text: str  # this part's text
    ref: int  # the concatenation reference, total and this part's number (1-based)
    total: int
    seq: int
    part: Part  # the row to store (its message_id is filled in here)
    receipt: int  # the receipt the client asked for (registered_delivery)
    send_at: float | None
    valid_until: float | None


@dataclass(slots=True)
class _Group:
    """Parts of one client-concatenated message seen so far (in this process)."""

    message: Message
    texts: dict[int, str]
    started: float


class ClientParts:
    """Gathers the parts of client-concatenated messages (see the module docstring)."""

    def __init__(
        self,
        store: StorePort,
        clock: Clock,
        messages: MessageService,
        *,
        origin: str,
        hold_s: float = PART_HOLD_S,
    ) -> None:
        if hold_s <= 0:
            raise ValueError("part_hold_s must be positive")
        self._store = store
        self._clock = clock
        self._messages = messages
        self._origin = origin  # Message.source of the messages gathered here
        self._hold_s = hold_s  # how long the parts of a group may take to arrive
        self._groups: dict[_GroupKey, _Group] = {}
        self._lookups: dict[_GroupKey, tuple[asyncio.Lock, int]] = {}  # lock, its users

    async def add(self, account: Account, cp: ClientPart, now: float) -> str:
        """Store one part; the id of its message. Raises DomainError."""
        check_part_count(account, cp.total)  # before any part of it is stored
        key = (account.id, cp.sender, cp.to, cp.ref, cp.total)
        self._expire_groups(now)
        group = self._groups.get(key) or await self._find_group(key, cp, now)
        if group is not None and cp.seq in group.texts:
            return group.message.id  # a repeated part: same answer
        first = group is None
        if group is None:
            req = SendRequest(to=cp.to, sender=cp.sender, text=cp.text or " ", send_at=cp.send_at)
            built = self._messages.build(
                account, req, now, origin=self._origin, receipt=cp.receipt
            ).message
            message = replace(
                built, parts=cp.total, text="", valid_until=cp.valid_until or built.valid_until
            )
            group = self._groups[key] = _Group(message, {}, now)
        seq = cp.seq
        part = replace(cp.part, message_id=group.message.id)
        group.texts[seq] = cp.text
        complete = len(group.texts) == cp.total
        start = cp.send_at if cp.send_at is not None and cp.send_at > now else now
        # Held until the group's deadline: the dispatcher fails a group still incomplete
        # then (incomplete_concatenation) instead of sending what arrived.
        due = start if complete else group.started + self._hold_s
        changes: list[Change] = []
        if complete:
            joined = "".join(group.texts[i] for i in sorted(group.texts))
            changes.append(MessageTextChange(message_id=group.message.id, text=joined))
            changes += [
                OutboxChange(message_id=group.message.id, seq=s, due_at=start)
                for s in group.texts
                if s != seq
            ]
            del self._groups[key]
        if first:
            await self._store.accept([_new_message(group.message, part, due, now)])
            if changes:
                await self._store.apply(changes)
        else:
            await self._store.add_parts([part], due_at=due, changes=changes)
        if complete:
            self._messages.wake()
        return group.message.id

    async def _find_group(self, key: _GroupKey, cp: ClientPart, now: float) -> _Group | None:
        """The stored group, looked up once at a time per group: parts of one message often
        arrive together, and a second lookup must not miss the group the first one is about
        to start (each would become a message of its own). Whoever waited finds it held."""
        lock, users = self._lookups.get(key, (asyncio.Lock(), 0))
        self._lookups[key] = (lock, users + 1)
        try:
            async with lock:
                return self._groups.get(key) or await self._stored_group(key, cp, now)
        finally:
            lock, users = self._lookups[key]
            if users == 1:
                del self._lookups[key]
            else:
                self._lookups[key] = (lock, users - 1)

    async def _stored_group(self, key: _GroupKey, cp: ClientPart, now: float) -> _Group | None:
        """The group a part belongs to when this process does not hold it: its earlier parts
        were committed by a process that then stopped or crashed (else a restart would make
        each part a message of its own, failed when its deadline passes), or the part is one
        already stored, sent again (the same text under the same number)."""
        account_id, sender, to, ref, total = key
        recent = await self._store.list_messages(
            account_id, limit=20, to_addr=to, since=now - self._hold_s
        )
        for message in recent:
            if message.source != self._origin or message.parts != total:
                continue
            if message.status in FINAL or now - message.created_at >= self._hold_s:
                continue  # its deadline passed: failed, or about to be
            if sender and message.from_addr != sender:
                continue
            parts = await self._store.get_parts(message.id)
            if any(_part_ref(p) != ref for p in parts):
                continue
            texts = {p.seq: _part_text(p) for p in parts}
            if cp.seq in texts:
                if texts[cp.seq] == cp.text:
                    return _Group(message, texts, message.created_at)  # sent again
                continue  # the reference was used again for another message
            if len(parts) >= total:
                continue
            group = self._groups[key] = _Group(message, texts, message.created_at)
            return group
        return None

    def _expire_groups(self, now: float) -> None:
        for key in [k for k, g in self._groups.items() if now - g.started >= self._hold_s]:
            del self._groups[key]


def _new_message(message: Message, part: Part, due: float, now: float) -> NewMessage:
    event = StatusEvent(
        message_id=message.id,
        seq=None,
        status=message.status,
        error_code=None,
        detail=None,
        created_at=now,
    )
    return NewMessage(message=message, parts=(part,), due_at=due, events=(event,))


def _part_ref(part: Part) -> int | None:
    """The concatenation reference of a stored part of a client-concatenated message."""
    if part.sar_ref is not None:
        return part.sar_ref
    if not part.esm_class & _UDHI:
        return None
    header, _body = codec.split_udh(part.short_message)
    return header.concat.ref if header.concat is not None else None


def _part_text(part: Part) -> str:
    body = part.short_message
    if part.esm_class & _UDHI:
        body = codec.split_udh(body)[1]
    return codec.decode_payload(body, part.data_coding & 0xFF)

"""Inbound (mobile-originated) messages: reassembled when concatenated, stored as received.

Single-part messages are committed before the connector acknowledges them. Parts of a
concatenated message are held in memory until complete (or stored as what arrived, flagged,
after the timeout); durable part storage and number/keyword routing come with two-way SMS.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from smsgate.codec import Reassembler
from smsgate.domain.states import Status
from smsgate.services.clock import Clock
from smsgate.services.events import MESSAGE_INBOUND, deliveries_for
from smsgate.services.ids import new_id
from smsgate.services.ports import InboundEvent
from smsgate.services.records import Message, NewMessage, StatusEvent
from smsgate.services.store_port import StorePort

log = logging.getLogger(__name__)

OwnerLookup = Callable[[str], Awaitable[str | None]]


class InboundService:
    def __init__(
        self,
        store: StorePort,
        clock: Clock,
        *,
        owner_of: OwnerLookup,
        reassembly_timeout_s: float = 300.0,
    ) -> None:
        self._store = store
        self._clock = clock
        self._owner_of = owner_of
        self._reassembler = Reassembler(timeout=reassembly_timeout_s)
        self.unowned = 0

    async def on_inbound(self, event: InboundEvent) -> None:
        now = self._clock.now()
        text: str | None = event.text
        if event.concat is not None and event.concat[1] > 1:
            ref, total, seq = event.concat
            key = (event.connector, event.source, event.destination, ref, total)
            text = self._reassembler.add(key, ref, total, seq, event.text, now)
        for incomplete in self._reassembler.expire(now):
            key_parts: tuple[str, str, str, int, int] = incomplete.key  # type: ignore[assignment]
            joined = "".join(text for _seq, text in sorted(incomplete.received))
            await self._store_message(key_parts[1], key_parts[2], joined, now, incomplete=True)
        if text is not None:
            await self._store_message(event.source, event.destination, text, now)

    async def _store_message(
        self, source: str, destination: str, text: str, now: float, *, incomplete: bool = False
    ) -> None:
        account_id = await self._owner_of(destination)
        if account_id is None:
            self.unowned += 1
            log.warning("inbound message for a number nobody owns; dropped")
            return
        message = Message(
            id=new_id("msg", now),
            account_id=account_id,
            direction="inbound",
            to_addr=_plus(destination),
            from_addr=_plus(source),
            from_ton=0,
            from_npi=0,
            text=text,
            status=Status.RECEIVED,
            category="transactional",
            encoding="",
            parts=1,
            error_code="incomplete" if incomplete else None,
            error_message="some parts never arrived" if incomplete else None,
            source="mo",
            created_at=now,
            updated_at=now,
        )
        hooks = await self._store.webhooks_for(account_id, now=now)
        await self._store.accept(
            [
                NewMessage(
                    message=message,
                    parts=(),
                    due_at=None,
                    events=(
                        StatusEvent(
                            message_id=message.id,
                            seq=None,
                            status=Status.RECEIVED,
                            error_code=None,
                            detail=None,
                            created_at=now,
                        ),
                    ),
                    deliveries=deliveries_for(MESSAGE_INBOUND, message, hooks, now),
                )
            ]
        )


def _plus(address: str) -> str:
    return "+" + address if address.isdigit() and len(address) > 8 else address

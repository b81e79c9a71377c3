"""Small builders of store records; every time is a UNIX float the test chooses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from smsgate.adapters.store.database import make_engine, migrate
from smsgate.adapters.store.store import Store
from smsgate.services.ids import new_id
from smsgate.services.records import Message, NewDelivery, NewMessage, Part, StatusEvent

T0 = 1_800_000_000.0  # 2027-01-15, an arbitrary fixed "now"


@asynccontextmanager
async def open_store(url: str, *, migrated: bool = True) -> AsyncIterator[Store]:
    """A started Store on its own engine; stopped and disposed on exit."""
    engine = make_engine(url)
    try:
        if migrated:
            await migrate(engine)
        store = Store(engine, url=url)
        await store.start()
        try:
            yield store
        finally:
            await store.stop()
    finally:
        await engine.dispose()


def message(account_id: str, *, created_at: float = T0, **fields: Any) -> Message:
    values: dict[str, Any] = {
        "id": new_id("msg", created_at),
        "account_id": account_id,
        "direction": "outbound",
        "to_addr": "+4915112345678",
        "from_addr": "SMSGate",
        "from_ton": 5,
        "from_npi": 0,
        "text": "hello",
        "status": "queued",
        "category": "transactional",
        "encoding": "gsm7",
        "parts": 1,
        "created_at": created_at,
        "updated_at": created_at,
    }
    values.update(fields)
    return Message(**values)


def parts_of(
    msg: Message, payloads: Sequence[bytes] | None = None, **fields: Any
) -> tuple[Part, ...]:
    payloads = payloads or [f"part {i}".encode() for i in range(1, msg.parts + 1)]
    return tuple(
        Part(
            message_id=msg.id,
            seq=seq,
            total=len(payloads),
            status=msg.status,
            short_message=payload,
            esm_class=0x40 if len(payloads) > 1 else 0,
            data_coding=0,
            **fields,
        )
        for seq, payload in enumerate(payloads, start=1)
    )


def event(
    message_id: str,
    status: str,
    *,
    at: float = T0,
    seq: int | None = None,
    error_code: str | None = None,
    detail: str | None = None,
) -> StatusEvent:
    return StatusEvent(
        message_id=message_id,
        seq=seq,
        status=status,
        error_code=error_code,
        detail=detail,
        created_at=at,
    )


def delivery(
    account_id: str,
    *,
    message_id: str | None = None,
    webhook_id: str | None = None,
    at: float = T0,
    event_name: str = "message.delivered",
) -> NewDelivery:
    return NewDelivery(
        id=new_id("dlv", at),
        event_id=new_id("evt", at),
        event=event_name,
        account_id=account_id,
        webhook_id=webhook_id,
        message_id=message_id,
        url="https://hooks.example/sms",
        payload='{"ok": true}',
        created_at=at,
    )


def new_message(
    account_id: str,
    *,
    n_parts: int = 1,
    payloads: Sequence[bytes] | None = None,
    due_at: float | None = T0,
    idempotency: tuple[str, str] | None = None,
    deliveries: Sequence[NewDelivery] = (),
    **fields: Any,
) -> NewMessage:
    """One message with its parts, an 'accepted' event and (by default) queue rows due at T0."""
    count = len(payloads) if payloads else n_parts
    msg = message(account_id, parts=count, **fields)
    return NewMessage(
        message=msg,
        parts=parts_of(msg, payloads),
        due_at=due_at,
        events=(event(msg.id, msg.status, at=msg.created_at),),
        deliveries=tuple(deliveries),
        idempotency=idempotency,
    )

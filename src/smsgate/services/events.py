"""Webhook events (DESIGN.md §3): `{"id", "event", "created_at", "data"}`, signed at send time
with `Smsgate-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

import orjson

from smsgate.services.ids import new_id
from smsgate.services.records import Message, NewDelivery, Webhook
from smsgate.services.views import iso, message_view

MESSAGE_STATUS = "message.status"
MESSAGE_INBOUND = "message.inbound"
EVENTS = (MESSAGE_STATUS, MESSAGE_INBOUND, "campaign.finished")


def deliveries_for(
    event: str, message: Message, hooks: Sequence[Webhook], now: float
) -> tuple[NewDelivery, ...]:
    """One event, fanned out to the account's subscribed webhooks and the message's callback."""
    callback = message.callback_url if event == MESSAGE_STATUS else None
    return fan_out(event, message, hooks, now, extra_url=callback)


def fan_out(
    event: str,
    message: Message,
    hooks: Sequence[Webhook],
    now: float,
    *,
    extra_url: str | None = None,
    data: dict[str, Any] | None = None,
) -> tuple[NewDelivery, ...]:
    """One event (one id, one body) to every subscribed webhook and to `extra_url` (a
    message's callback_url or a keyword's forward URL, signed with the account's secret).
    `data` defaults to the message's public view."""
    urls: list[tuple[str | None, str]] = [(h.id, h.url) for h in hooks if event in h.events]
    if extra_url:
        urls.append((None, extra_url))
    if not urls:
        return ()
    event_id = new_id("evt", now)
    body = orjson.dumps(
        {
            "id": event_id,
            "event": event,
            "created_at": iso(now),
            "data": message_view(message) if data is None else data,
        }
    ).decode()
    return tuple(
        NewDelivery(
            id=new_id("dlv", now),
            event_id=event_id,
            event=event,
            account_id=message.account_id,
            webhook_id=hook_id,
            message_id=message.id,
            url=url,
            payload=body,
            created_at=now,
        )
        for hook_id, url in urls
    )


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, *, now: float, tolerance_s: float = 300) -> bool:
    """What a receiver does: check the signature and that the timestamp is recent."""
    fields = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = sign(secret, timestamp, body)
    return hmac.compare_digest(expected, header.strip())

"""The public shapes of records (DESIGN.md §3): what the REST API returns and webhooks carry."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from smsgate.services.records import Message, Webhook


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def message_view(m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "direction": m.direction,
        "to": m.to_addr,
        "from": m.from_addr,
        "text": m.text,
        "status": m.status,
        "category": m.category,
        "encoding": m.encoding,
        "parts": m.parts,
        "price": m.price,
        "currency": m.currency,
        "error": {"code": m.error_code, "message": m.error_message or m.error_code}
        if m.error_code
        else None,
        "reference": m.reference,
        "batch": m.batch_id,
        "campaign": m.campaign_id,
        "connector": m.connector,
        "created_at": iso(m.created_at),
        "scheduled_at": iso(m.scheduled_at),
        "sent_at": iso(m.sent_at),
        "delivered_at": iso(m.delivered_at),
        "updated_at": iso(m.updated_at),
        "valid_until": iso(m.valid_until),
    }


def webhook_view(h: Webhook, *, with_secret: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": h.id,
        "url": h.url,
        "events": list(h.events),
        "description": h.description,
        "active": h.active,
        "created_at": iso(h.created_at),
    }
    if with_secret:
        view["secret"] = h.secret
    return view

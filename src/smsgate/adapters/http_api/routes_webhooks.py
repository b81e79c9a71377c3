"""/api/v1/webhooks: subscriptions, their secrets (shown at creation) and delivery attempts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from smsgate.adapters.http_api.auth import Principal, authenticate
from smsgate.adapters.http_api.context import ApiContext
from smsgate.adapters.http_api.errors import JsonResponse
from smsgate.adapters.http_api.routes_messages import ERRORS
from smsgate.adapters.http_api.schemas import (
    DeliveryOut,
    MessageDeliveryOut,
    WebhookIn,
    WebhookOut,
)
from smsgate.domain.errors import NotFound
from smsgate.services.records import Delivery
from smsgate.services.views import iso, webhook_view

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
# A message's own deliveries (its callback_url, and the subscriptions' events about it).
message_router = APIRouter(prefix="/api/v1/messages", tags=["messages"])
Auth = Annotated[Principal, Depends(authenticate)]


def _ctx(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.ctx
    return ctx


def delivery_view(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "event_id": d.event_id,
        "event": d.event,
        "url": d.url,
        "status": d.status,
        "attempts": d.attempts,
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "created_at": iso(d.created_at),
        "delivered_at": iso(d.delivered_at),
        "next_attempt_at": iso(d.next_attempt_at),
    }


@router.post("", status_code=201, response_model=WebhookOut, responses=ERRORS)
async def create_webhook(body: WebhookIn, request: Request, principal: Auth) -> Response:
    ctx = _ctx(request)
    url = await ctx.url_guard.check(body.url, field="url")
    hook = await ctx.store.create_webhook(
        principal.account.id,
        url=url,
        events=list(dict.fromkeys(body.events)),
        description=body.description,
        now=ctx.clock.now(),
    )
    return JsonResponse(webhook_view(hook, with_secret=True), status_code=201)


@router.get("", response_model=list[WebhookOut], responses=ERRORS)
async def list_webhooks(request: Request, principal: Auth) -> Response:
    hooks = await _ctx(request).store.list_webhooks(principal.account.id)
    return JsonResponse([webhook_view(h) for h in hooks])


@router.get("/{webhook_id}", response_model=WebhookOut, responses=ERRORS)
async def get_webhook(webhook_id: str, request: Request, principal: Auth) -> Response:
    hook = await _ctx(request).store.get_webhook(principal.account.id, webhook_id)
    if hook is None:
        raise NotFound("no such webhook", field="id")
    return JsonResponse(webhook_view(hook))


@router.delete("/{webhook_id}", status_code=204, responses=ERRORS)
async def delete_webhook(webhook_id: str, request: Request, principal: Auth) -> Response:
    if not await _ctx(request).store.delete_webhook(principal.account.id, webhook_id):
        raise NotFound("no such webhook", field="id")
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", response_model=list[DeliveryOut], responses=ERRORS)
async def list_deliveries(webhook_id: str, request: Request, principal: Auth) -> Response:
    store = _ctx(request).store
    if await store.get_webhook(principal.account.id, webhook_id) is None:
        raise NotFound("no such webhook", field="id")
    deliveries = await store.list_deliveries(principal.account.id, webhook_id=webhook_id)
    return JsonResponse([delivery_view(d) for d in deliveries])


@message_router.get(
    "/{message_id}/deliveries", response_model=list[MessageDeliveryOut], responses=ERRORS
)
async def message_deliveries(message_id: str, request: Request, principal: Auth) -> Response:
    """The calls made about one message (its callback_url, webhook subscriptions), newest
    first, each with its attempts."""
    store = _ctx(request).store
    if await store.get_message(message_id, principal.account.id) is None:
        raise NotFound("no such message", field="id")
    deliveries = await store.list_deliveries(principal.account.id, message_id=message_id)
    views = []
    for d in deliveries:
        history = [
            {
                "attempted_at": iso(a["attempted_at"]),
                "status_code": a["status_code"],
                "error": a["error"],
                "duration_ms": a["duration_ms"],
            }
            for a in await store.list_attempts(d.id)
        ]
        views.append({**delivery_view(d), "webhook_id": d.webhook_id, "history": history})
    return JsonResponse(views)

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
from smsgate.services.admin import AdminService, Attempt, NewWebhook
from smsgate.services.records import Delivery
from smsgate.services.views import iso, webhook_view

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
# A message's own deliveries (its callback_url, and the subscriptions' events about it).
message_router = APIRouter(prefix="/api/v1/messages", tags=["messages"])
Auth = Annotated[Principal, Depends(authenticate)]


def _service(request: Request) -> AdminService:
    ctx: ApiContext = request.app.state.ctx
    return ctx.admin


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
    hook = await _service(request).create_webhook(
        principal.account.id,
        NewWebhook(url=body.url, events=body.events, description=body.description),
    )
    return JsonResponse(webhook_view(hook, with_secret=True), status_code=201)


@router.get("", response_model=list[WebhookOut], responses=ERRORS)
async def list_webhooks(request: Request, principal: Auth) -> Response:
    hooks = await _service(request).webhooks(principal.account.id)
    return JsonResponse([webhook_view(h) for h in hooks])


@router.get("/{webhook_id}", response_model=WebhookOut, responses=ERRORS)
async def get_webhook(webhook_id: str, request: Request, principal: Auth) -> Response:
    hook = await _service(request).webhook(principal.account.id, webhook_id)
    return JsonResponse(webhook_view(hook))


@router.delete("/{webhook_id}", status_code=204, responses=ERRORS)
async def delete_webhook(webhook_id: str, request: Request, principal: Auth) -> Response:
    await _service(request).delete_webhook(principal.account.id, webhook_id)
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", response_model=list[DeliveryOut], responses=ERRORS)
async def list_deliveries(webhook_id: str, request: Request, principal: Auth) -> Response:
    deliveries = await _service(request).webhook_deliveries(principal.account.id, webhook_id)
    return JsonResponse([delivery_view(d) for d in deliveries])


def attempt_view(a: Attempt) -> dict[str, Any]:
    return {
        "attempted_at": iso(a.attempted_at),
        "status_code": a.status_code,
        "error": a.error,
        "duration_ms": a.duration_ms,
    }


@message_router.get(
    "/{message_id}/deliveries", response_model=list[MessageDeliveryOut], responses=ERRORS
)
async def message_deliveries(message_id: str, request: Request, principal: Auth) -> Response:
    """The calls made about one message (its callback_url, webhook subscriptions), newest
    first, each with its attempts."""
    found = await _service(request).message_deliveries(principal.account.id, message_id)
    return JsonResponse(
        [
            {
                **delivery_view(h.delivery),
                "webhook_id": h.delivery.webhook_id,
                "history": [attempt_view(a) for a in h.attempts],
            }
            for h in found
        ]
    )

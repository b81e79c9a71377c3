"""/api/v1/numbers: long codes and short codes owned by accounts (an admin assigns them)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from smsgate.adapters.http_api.auth import Principal, authenticate, require_admin
from smsgate.adapters.http_api.errors import ApiError, JsonResponse
from smsgate.adapters.http_api.routes_messages import ERRORS
from smsgate.services.two_way_manage import TwoWayManager
from smsgate.services.two_way_records import Number, Unrouted
from smsgate.services.views import iso

router = APIRouter(prefix="/api/v1/numbers", tags=["two-way"])
Auth = Annotated[Principal, Depends(authenticate)]
Admin = Annotated[Principal, Depends(require_admin)]
ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {**ERRORS, 403: ERRORS[401]}


def manager(request: Request) -> TwoWayManager:
    """The two-way use cases the gateway handed to the app (bootstrap)."""
    found: TwoWayManager | None = getattr(request.app.state, "two_way", None)
    if found is None:  # pragma: no cover - bootstrap always hands it in
        raise ApiError(404, "not_found", "two-way messaging is not enabled")
    return found


class NumberIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    number: str = Field(min_length=3, max_length=32, description="E.164 or a 3-8 digit code")
    account_id: str = Field(min_length=1, max_length=40)
    shared: bool = Field(default=False, description="a short code shared by several accounts")
    description: str = Field(default="", max_length=500)


class NumberOut(BaseModel):
    id: str
    number: str
    kind: str
    account_id: str
    shared: bool
    description: str
    created_at: str


class UnroutedOut(BaseModel):
    id: str
    connector: str
    source: str
    destination: str
    text: str
    reason: str
    error: str | None
    received_at: str


def number_view(n: Number) -> dict[str, Any]:
    return {
        "id": n.id,
        "number": n.number,
        "kind": n.kind,
        "account_id": n.account_id,
        "shared": n.shared,
        "description": n.description,
        "created_at": iso(n.created_at),
    }


def unrouted_view(u: Unrouted) -> dict[str, Any]:
    return {
        "id": u.id,
        "connector": u.connector,
        "source": u.source,
        "destination": u.destination,
        "text": u.text,
        "reason": u.reason,
        "error": u.error_code,
        "received_at": iso(u.received_at),
    }


@router.post("", status_code=201, response_model=NumberOut, responses=ADMIN_ERRORS)
async def assign_number(body: NumberIn, request: Request, _admin: Admin) -> Response:
    number = await manager(request).assign_number(
        body.number, account_id=body.account_id, shared=body.shared, description=body.description
    )
    return JsonResponse(number_view(number), status_code=201)


@router.get("", response_model=list[NumberOut], responses=ERRORS)
async def list_numbers(request: Request, principal: Auth) -> Response:
    """The caller's numbers (an admin sees every account's)."""
    numbers = await manager(request).numbers(principal.account)
    return JsonResponse([number_view(n) for n in numbers])


@router.get("/unrouted", response_model=list[UnroutedOut], responses=ADMIN_ERRORS)
async def list_unrouted(
    request: Request,
    _admin: Admin,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """Inbound messages no account took (unknown number, no keyword on a shared code)."""
    rows = await manager(request).unrouted(limit=limit, before=cursor)
    return JsonResponse([unrouted_view(u) for u in rows])


@router.get("/{number_id}", response_model=NumberOut, responses=ERRORS)
async def get_number(number_id: str, request: Request, principal: Auth) -> Response:
    return JsonResponse(number_view(await manager(request).number(principal.account, number_id)))


@router.delete("/{number_id}", status_code=204, responses=ADMIN_ERRORS)
async def unassign_number(number_id: str, request: Request, _admin: Admin) -> Response:
    """Unassign a number; its keyword rules go with it."""
    await manager(request).unassign_number(number_id)
    return Response(status_code=204)

"""/api/v1/optouts: the account's suppression list (no marketing to these numbers)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from smsgate.adapters.http_api.auth import Principal, authenticate
from smsgate.adapters.http_api.errors import JsonResponse
from smsgate.adapters.http_api.routes_messages import ERRORS
from smsgate.adapters.http_api.routes_numbers import manager
from smsgate.services.two_way_records import OptOut
from smsgate.services.views import iso

router = APIRouter(prefix="/api/v1/optouts", tags=["two-way"])
Auth = Annotated[Principal, Depends(authenticate)]


class OptOutIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    number: str = Field(min_length=1, max_length=40, description="E.164, or national format")


class OptOutOut(BaseModel):
    number: str
    source: str
    keyword: str | None
    created_at: str


class OptOutList(BaseModel):
    data: list[OptOutOut]
    next_cursor: str | None


def optout_view(o: OptOut) -> dict[str, Any]:
    return {
        "number": o.number,
        "source": o.source,
        "keyword": o.keyword.upper() if o.keyword else None,
        "created_at": iso(o.created_at),
    }


@router.get("", response_model=OptOutList, responses=ERRORS)
async def list_optouts(
    request: Request,
    principal: Auth,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    rows = await manager(request).optouts(principal.account, limit=limit + 1, after=cursor)
    more = len(rows) > limit
    rows = rows[:limit]
    return JsonResponse(
        {
            "data": [optout_view(o) for o in rows],
            "next_cursor": rows[-1].number if more and rows else None,
        }
    )


@router.post("", status_code=201, response_model=OptOutOut, responses=ERRORS)
async def add_optout(body: OptOutIn, request: Request, principal: Auth) -> Response:
    """Add a number (201); one already on the list answers 200 with its entry."""
    entry, created = await manager(request).add_optout(principal.account, body.number)
    return JsonResponse(optout_view(entry), status_code=201 if created else 200)


@router.get("/{number}", response_model=OptOutOut, responses=ERRORS)
async def get_optout(number: str, request: Request, principal: Auth) -> Response:
    return JsonResponse(optout_view(await manager(request).optout(principal.account, number)))


@router.delete("/{number}", status_code=204, responses=ERRORS)
async def remove_optout(number: str, request: Request, principal: Auth) -> Response:
    await manager(request).remove_optout(principal.account, number)
    return Response(status_code=204)

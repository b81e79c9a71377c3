"""/api/v1/keywords: keyword rules per number (reply, forward, optout, optin, help)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from smsgate.adapters.http_api.auth import Principal, authenticate
from smsgate.adapters.http_api.context import ApiContext
from smsgate.adapters.http_api.errors import JsonResponse
from smsgate.adapters.http_api.routes_messages import ERRORS
from smsgate.adapters.http_api.routes_numbers import manager
from smsgate.services.two_way_manage import RuleRequest
from smsgate.services.two_way_records import KeywordRule
from smsgate.services.views import iso

router = APIRouter(prefix="/api/v1/keywords", tags=["two-way"])
Auth = Annotated[Principal, Depends(authenticate)]


class KeywordIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    number: str = Field(min_length=3, max_length=32, description="one of the account's numbers")
    keyword: str | None = Field(
        default=None,
        max_length=64,
        description="one word; matching ignores case, accents and punctuation. "
        "null or '*': the number's catch-all",
    )
    action: Literal["reply", "forward", "optout", "optin", "help"]
    reply_text: str | None = Field(
        default=None,
        max_length=1000,
        description="reply (required for `reply`; a custom confirmation or help text for the "
        "others); placeholders {from}, {text}, {keyword}",
    )
    forward_url: str | None = Field(
        default=None, max_length=2000, description="`forward`: where the signed event goes"
    )


class KeywordOut(BaseModel):
    id: str
    number: str
    keyword: str
    action: str
    reply_text: str | None
    forward_url: str | None
    created_at: str


def rule_view(r: KeywordRule) -> dict[str, Any]:
    return {
        "id": r.id,
        "number": r.number,
        "keyword": r.display,
        "action": r.action,
        "reply_text": r.reply_text,
        "forward_url": r.forward_url,
        "created_at": iso(r.created_at),
    }


@router.post("", status_code=201, response_model=KeywordOut, responses=ERRORS)
async def create_rule(body: KeywordIn, request: Request, principal: Auth) -> Response:
    forward_url = body.forward_url
    if forward_url is not None and body.action == "forward":
        ctx: ApiContext = request.app.state.ctx
        forward_url = await ctx.url_guard.check(forward_url, field="forward_url")
    rule = await manager(request).add_rule(
        principal.account,
        RuleRequest(
            number=body.number,
            keyword=body.keyword,
            action=body.action,
            reply_text=body.reply_text,
            forward_url=forward_url,
        ),
    )
    return JsonResponse(rule_view(rule), status_code=201)


@router.get("", response_model=list[KeywordOut], responses=ERRORS)
async def list_rules(
    request: Request,
    principal: Auth,
    number: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    rules = await manager(request).rules(principal.account, number)
    return JsonResponse([rule_view(r) for r in rules])


@router.get("/{rule_id}", response_model=KeywordOut, responses=ERRORS)
async def get_rule(rule_id: str, request: Request, principal: Auth) -> Response:
    return JsonResponse(rule_view(await manager(request).rule(principal.account, rule_id)))


@router.delete("/{rule_id}", status_code=204, responses=ERRORS)
async def delete_rule(rule_id: str, request: Request, principal: Auth) -> Response:
    await manager(request).remove_rule(principal.account, rule_id)
    return Response(status_code=204)

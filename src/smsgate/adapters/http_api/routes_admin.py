"""/api/v1/account (own), /api/v1/keys (own keys) and /api/v1/admin/... (admin role)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from smsgate.adapters.http_api.auth import Principal, authenticate, require_admin
from smsgate.adapters.http_api.context import ApiContext
from smsgate.adapters.http_api.errors import JsonResponse
from smsgate.adapters.http_api.routes_messages import ERRORS
from smsgate.adapters.http_api.schemas import AccountIn, AccountOut, ConnectorOut, KeyIn, KeyOut
from smsgate.domain.errors import Conflict, NotFound
from smsgate.services.records import Account, ApiKey
from smsgate.services.views import iso

router = APIRouter(prefix="/api/v1", tags=["account"])
Auth = Annotated[Principal, Depends(authenticate)]
Admin = Annotated[Principal, Depends(require_admin)]


def _ctx(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.ctx
    return ctx


def account_view(a: Account) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "role": a.role,
        "default_country": a.default_country,
        "max_parts": a.max_parts,
        "created_at": iso(a.created_at),
    }


def key_view(k: ApiKey, secret: str | None = None) -> dict[str, Any]:
    return {
        "id": k.id,
        "name": k.name,
        "prefix": k.prefix,
        "created_at": iso(k.created_at),
        "revoked_at": iso(k.revoked_at),
        "key": secret,
    }


@router.get("/account", response_model=AccountOut, responses=ERRORS)
async def my_account(principal: Auth) -> Response:
    return JsonResponse(account_view(principal.account))


@router.get("/keys", response_model=list[KeyOut], responses=ERRORS)
async def my_keys(request: Request, principal: Auth) -> Response:
    keys = await _ctx(request).store.list_api_keys(principal.account.id)
    return JsonResponse([key_view(k) for k in keys])


@router.post("/keys", status_code=201, response_model=KeyOut, responses=ERRORS)
async def create_my_key(body: KeyIn, request: Request, principal: Auth) -> Response:
    ctx = _ctx(request)
    key, secret = await ctx.store.create_api_key(
        principal.account.id, name=body.name, now=ctx.clock.now()
    )
    return JsonResponse(key_view(key, secret), status_code=201)


@router.delete("/keys/{key_id}", status_code=204, responses=ERRORS)
async def revoke_my_key(key_id: str, request: Request, principal: Auth) -> Response:
    ctx = _ctx(request)
    if not await ctx.store.revoke_api_key(principal.account.id, key_id, now=ctx.clock.now()):
        raise NotFound("no such key", field="id")
    return Response(status_code=204)


@router.get("/admin/accounts", response_model=list[AccountOut], responses=ERRORS)
async def list_accounts(request: Request, _admin: Admin) -> Response:
    accounts = await _ctx(request).store.list_accounts()
    return JsonResponse([account_view(a) for a in accounts])


@router.post("/admin/accounts", status_code=201, response_model=AccountOut, responses=ERRORS)
async def create_account(body: AccountIn, request: Request, _admin: Admin) -> Response:
    ctx = _ctx(request)
    if await ctx.store.account_by_name(body.name) is not None:
        raise Conflict("an account with this name exists", field="name")
    account = await ctx.store.create_account(
        name=body.name,
        role=body.role,
        default_country=body.default_country.upper(),
        max_parts=body.max_parts,
        now=ctx.clock.now(),
    )
    return JsonResponse(account_view(account), status_code=201)


@router.post(
    "/admin/accounts/{account_id}/keys", status_code=201, response_model=KeyOut, responses=ERRORS
)
async def create_key(account_id: str, body: KeyIn, request: Request, _admin: Admin) -> Response:
    ctx = _ctx(request)
    if await ctx.store.get_account(account_id) is None:
        raise NotFound("no such account", field="account_id")
    key, secret = await ctx.store.create_api_key(account_id, name=body.name, now=ctx.clock.now())
    return JsonResponse(key_view(key, secret), status_code=201)


@router.get("/admin/connectors", response_model=list[ConnectorOut], responses=ERRORS)
async def connectors(request: Request, _admin: Admin) -> Response:
    return JsonResponse(_ctx(request).connector_status())

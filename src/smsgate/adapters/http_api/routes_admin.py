"""/api/v1/account (own), /api/v1/keys (own keys) and /api/v1/admin/... (admin role)."""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from smsgate.adapters.http_api.auth import Principal, authenticate, require_admin
from smsgate.adapters.http_api.context import ApiContext
from smsgate.adapters.http_api.errors import JsonResponse
from smsgate.adapters.http_api.routes_messages import ERRORS
from smsgate.adapters.http_api.schemas import (
    AccountIn,
    AccountOut,
    CallbackSecretOut,
    ConnectorOut,
    KeyIn,
    KeyOut,
    SmppLoginIn,
    SmppLoginOut,
)
from smsgate.domain.errors import Conflict, InvalidRequest, NotFound
from smsgate.services.credentials import hash_password
from smsgate.services.records import Account, ApiKey, SmppCredentials
from smsgate.services.views import iso

router = APIRouter(prefix="/api/v1", tags=["account"])
Auth = Annotated[Principal, Depends(authenticate)]
Admin = Annotated[Principal, Depends(require_admin)]


def _ctx(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.ctx
    return ctx


def account_view(a: Account, *, with_secret: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": a.id,
        "name": a.name,
        "role": a.role,
        "default_country": a.default_country,
        "max_parts": a.max_parts,
        "created_at": iso(a.created_at),
    }
    if with_secret:
        view["callback_secret"] = a.signing_secret
    return view


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


@router.post("/account/rotate-callback-secret", response_model=CallbackSecretOut, responses=ERRORS)
async def rotate_callback_secret(request: Request, principal: Auth) -> Response:
    """A new secret for the account's callback_url calls and keyword forwards. This process
    signs with it at once; other processes of the gateway within a minute (their cache)."""
    ctx = _ctx(request)
    secret = await ctx.store.rotate_signing_secret(principal.account.id)
    if secret is None:  # pragma: no cover - the caller's account exists
        raise NotFound("no such account", field="id")
    ctx.callback_secret_rotated(principal.account.id)
    return JsonResponse({"callback_secret": secret})


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
    return JsonResponse(account_view(account, with_secret=True), status_code=201)


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


def smpp_view(c: SmppCredentials) -> dict[str, Any]:
    return {
        "system_id": c.system_id,
        "max_binds": c.max_binds,
        "allowed_ips": [a for a in c.allowed_ips.split(",") if a],
        "submit_rate_per_s": c.submit_rate_per_s,
        "created_at": iso(c.created_at),
    }


@router.post(
    "/admin/accounts/{account_id}/smpp",
    status_code=201,
    response_model=SmppLoginOut,
    responses=ERRORS,
)
async def set_smpp_login(
    account_id: str, body: SmppLoginIn, request: Request, _admin: Admin
) -> Response:
    """Create or replace an SMPP login (system_id) of the account."""
    ctx = _ctx(request)
    if await ctx.store.get_account(account_id) is None:
        raise NotFound("no such account", field="account_id")
    for entry in body.allowed_ips:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as exc:
            raise InvalidRequest("not an address or network", field="allowed_ips") from exc
    now = ctx.clock.now()
    taken = await ctx.store.smpp_credentials(body.system_id, now=now)
    if taken is not None and taken.account_id != account_id:
        raise Conflict("this system_id belongs to another account", field="system_id")
    creds = SmppCredentials(
        system_id=body.system_id,
        account_id=account_id,
        password_hash=await asyncio.to_thread(hash_password, body.password),
        max_binds=body.max_binds,
        allowed_ips=",".join(body.allowed_ips),
        submit_rate_per_s=body.submit_rate_per_s,
        created_at=now,
    )
    await ctx.store.set_smpp_credentials(creds)
    return JsonResponse(smpp_view(creds), status_code=201)


@router.get(
    "/admin/accounts/{account_id}/smpp", response_model=list[SmppLoginOut], responses=ERRORS
)
async def list_smpp_logins(account_id: str, request: Request, _admin: Admin) -> Response:
    store = _ctx(request).store
    if await store.get_account(account_id) is None:
        raise NotFound("no such account", field="account_id")
    return JsonResponse([smpp_view(c) for c in await store.list_smpp_credentials(account_id)])


@router.delete("/admin/accounts/{account_id}/smpp/{system_id}", status_code=204, responses=ERRORS)
async def delete_smpp_login(
    account_id: str, system_id: str, request: Request, _admin: Admin
) -> Response:
    if not await _ctx(request).store.delete_smpp_credentials(account_id, system_id):
        raise NotFound("no such SMPP login", field="system_id")
    return Response(status_code=204)

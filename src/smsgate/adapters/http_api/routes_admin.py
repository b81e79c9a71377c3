"""/api/v1/account (own), /api/v1/keys (own keys) and /api/v1/admin/... (admin role)."""

from __future__ import annotations

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
from smsgate.services.admin import AdminService, ConnectorState, NewAccount, SmppLogin
from smsgate.services.records import Account, ApiKey, SmppCredentials
from smsgate.services.views import iso

router = APIRouter(prefix="/api/v1", tags=["account"])
Auth = Annotated[Principal, Depends(authenticate)]
Admin = Annotated[Principal, Depends(require_admin)]


def _service(request: Request) -> AdminService:
    ctx: ApiContext = request.app.state.ctx
    return ctx.admin


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
    secret = await _service(request).rotate_callback_secret(principal.account.id)
    return JsonResponse({"callback_secret": secret})


@router.get("/keys", response_model=list[KeyOut], responses=ERRORS)
async def my_keys(request: Request, principal: Auth) -> Response:
    keys = await _service(request).keys(principal.account.id)
    return JsonResponse([key_view(k) for k in keys])


@router.post("/keys", status_code=201, response_model=KeyOut, responses=ERRORS)
async def create_my_key(body: KeyIn, request: Request, principal: Auth) -> Response:
    new = await _service(request).create_key(principal.account.id, name=body.name)
    return JsonResponse(key_view(new.key, new.secret), status_code=201)


@router.delete("/keys/{key_id}", status_code=204, responses=ERRORS)
async def revoke_my_key(key_id: str, request: Request, principal: Auth) -> Response:
    await _service(request).revoke_key(principal.account.id, key_id)
    return Response(status_code=204)


@router.get("/admin/accounts", response_model=list[AccountOut], responses=ERRORS)
async def list_accounts(request: Request, _admin: Admin) -> Response:
    accounts = await _service(request).accounts()
    return JsonResponse([account_view(a) for a in accounts])


@router.post("/admin/accounts", status_code=201, response_model=AccountOut, responses=ERRORS)
async def create_account(body: AccountIn, request: Request, _admin: Admin) -> Response:
    account = await _service(request).create_account(
        NewAccount(
            name=body.name,
            role=body.role,
            default_country=body.default_country,
            max_parts=body.max_parts,
        )
    )
    return JsonResponse(account_view(account, with_secret=True), status_code=201)


@router.post(
    "/admin/accounts/{account_id}/keys", status_code=201, response_model=KeyOut, responses=ERRORS
)
async def create_key(account_id: str, body: KeyIn, request: Request, _admin: Admin) -> Response:
    new = await _service(request).create_key(account_id, name=body.name)
    return JsonResponse(key_view(new.key, new.secret), status_code=201)


def connector_view(c: ConnectorState) -> dict[str, Any]:
    return {"name": c.name, "type": c.type, "up": c.up, "stats": dict(c.stats)}


@router.get("/admin/connectors", response_model=list[ConnectorOut], responses=ERRORS)
async def connectors(request: Request, _admin: Admin) -> Response:
    return JsonResponse([connector_view(c) for c in _service(request).connectors()])


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
    creds = await _service(request).set_smpp_login(
        account_id,
        SmppLogin(
            system_id=body.system_id,
            password=body.password,
            max_binds=body.max_binds,
            allowed_ips=tuple(body.allowed_ips),
            submit_rate_per_s=body.submit_rate_per_s,
        ),
    )
    return JsonResponse(smpp_view(creds), status_code=201)


@router.get(
    "/admin/accounts/{account_id}/smpp", response_model=list[SmppLoginOut], responses=ERRORS
)
async def list_smpp_logins(account_id: str, request: Request, _admin: Admin) -> Response:
    logins = await _service(request).smpp_logins(account_id)
    return JsonResponse([smpp_view(c) for c in logins])


@router.delete("/admin/accounts/{account_id}/smpp/{system_id}", status_code=204, responses=ERRORS)
async def delete_smpp_login(
    account_id: str, system_id: str, request: Request, _admin: Admin
) -> Response:
    await _service(request).delete_smpp_login(account_id, system_id)
    return Response(status_code=204)

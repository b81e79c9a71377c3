"""The REST API in process: the app bootstrap builds, over a real SQLite file, called through
`httpx.ASGITransport` (no gateway process, no sockets, no SMPP)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from types import EllipsisType
from typing import Any

import httpx
import pytest_asyncio

from smsgate.adapters.url_guard import LOOPBACK_NETWORKS
from smsgate.bootstrap import Gateway
from smsgate.config import Settings

NOT_FOUND_IDS = [
    "msg_doesnotexist",
    "x" * 64,
    "%2e%2e%2fetc",  # ../etc, escaped
    "%00",
    "é€",
    "1' OR '1'='1",
]


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    key: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@dataclass
class Api:
    gateway: Gateway
    client: httpx.AsyncClient
    admin: Tenant
    a: Tenant
    b: Tenant

    async def tenant(self, name: str, **body: Any) -> Tenant:
        """A new account with an API key, made through the admin API."""
        made = await self.client.post(
            "/api/v1/admin/accounts", json={"name": name, **body}, headers=self.admin.auth
        )
        assert made.status_code == 201, made.text
        account_id = made.json()["id"]
        key = await self.client.post(
            f"/api/v1/admin/accounts/{account_id}/keys", json={"name": "k"}, headers=self.admin.auth
        )
        assert key.status_code == 201, key.text
        return Tenant(account_id, key.json()["key"])

    async def send(self, who: Tenant, **body: Any) -> httpx.Response:
        body.setdefault("to", "+359888123456")
        body.setdefault("from", "ACME")
        body.setdefault("text", "hello")
        return await self.client.post("/api/v1/messages", json=body, headers=who.auth)


def api_settings(tmp_path: Path, **overrides: Any) -> Settings:
    base = Settings(
        database_url=f"sqlite:///{tmp_path}/api.db",
        http_host="127.0.0.1",
        http_port=0,
        smpp_enabled=False,
        webhook_allowed_networks=LOOPBACK_NETWORKS,
    )
    return replace(base, **overrides)


def assert_error(
    resp: httpx.Response, status: int, code: str, field: str | EllipsisType | None = ...
) -> dict[str, Any]:
    """The one error shape (DESIGN.md §3): {"error": {"code", "message", "field"}}."""
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert list(body) == ["error"]
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "field"}
    assert error["code"] == code, error
    assert isinstance(error["message"], str)
    assert error["message"]
    if field is not ...:
        assert error["field"] == field, error
    return error


@pytest_asyncio.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with Gateway(api_settings(tmp_path), serve_http=False) as gateway:
        store = gateway.store
        root = await store.create_account(name="root", role="admin", now=time.time())
        _, admin_key = await store.create_api_key(root.id, name="admin", now=time.time())
        transport = httpx.ASGITransport(app=gateway.api)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            api = Api(gateway, client, Tenant(root.id, admin_key), Tenant("", ""), Tenant("", ""))
            api.a = await api.tenant("alpha", default_country="BG")
            api.b = await api.tenant("beta")
            yield api

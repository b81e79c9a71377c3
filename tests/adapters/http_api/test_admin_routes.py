"""The account, key, SMPP-login, webhook and connector routes answer from the admin service
(services/admin.py): here one on in-memory fakes, behind the real app on httpx.ASGITransport.
Only authentication reads the real store (a SQLite file)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from smsgate.adapters.http_api.app import create_asgi
from smsgate.adapters.http_api.context import ApiContext
from smsgate.adapters.store.database import make_engine, migrate
from smsgate.adapters.store.store import Store
from smsgate.config import Settings
from smsgate.services.admin import AdminService, ConnectorState, NewAccount, SmppLogin
from smsgate.services.clock import SystemClock
from smsgate.services.messages import MessageService
from smsgate.testing.fakes_admin import FakeAdminStore, FakeClock, FakeUrlCheck

CONNECTORS = (ConnectorState(name="smsc1", type="smpp", up=False, stats={"submitted": 2}),)


@dataclass
class Api:
    client: httpx.AsyncClient
    fake: FakeAdminStore
    admin: AdminService
    root_id: str
    key: str  # the root account's (an admin)
    rotated: list[str] = field(default_factory=list)

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    url = f"sqlite:///{tmp_path}/api.db"
    engine = make_engine(url)
    store = Store(engine, url=url)
    await migrate(engine)
    await store.start()
    try:
        clock = SystemClock()
        root = await store.create_account(name="root", role="admin", now=clock.now())
        _, key = await store.create_api_key(root.id, name="t", now=clock.now())
        fake = FakeAdminStore(accounts={root.id: root})
        rotated: list[str] = []
        admin = AdminService(
            accounts=fake,
            smpp_logins=fake,
            webhooks=fake,
            messages=fake,
            clock=FakeClock(),
            urls=FakeUrlCheck(refused=("http://10.",)),
            connector_status=lambda: CONNECTORS,
            secret_rotated=rotated.append,
        )
        messages = MessageService(store, clock, default_validity_s=3600, default_sender="x")
        ctx = ApiContext(
            store=store, messages=messages, admin=admin, clock=clock, settings=Settings()
        )
        transport = httpx.ASGITransport(app=create_asgi(ctx))
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            yield Api(client, fake, admin, root.id, key, rotated)
    finally:
        await store.stop()
        await engine.dispose()


async def test_account_created_by_the_service(api: Api) -> None:
    body = {"name": "shop", "default_country": "bg"}
    got = await api.client.post("/api/v1/admin/accounts", json=body, headers=api.auth())
    assert got.status_code == 201
    view = got.json()
    assert set(view) == {
        "id",
        "name",
        "role",
        "default_country",
        "max_parts",
        "created_at",
        "callback_secret",
    }
    stored = await api.admin.account_named("shop")
    assert stored is not None
    assert view["id"] == stored.id
    assert view["callback_secret"] == stored.signing_secret
    assert view["default_country"] == "BG"
    listed = await api.client.get("/api/v1/admin/accounts", headers=api.auth())
    assert sorted(a["name"] for a in listed.json()) == ["root", "shop"]


async def test_a_conflict_from_the_service_is_409(api: Api) -> None:
    await api.admin.create_account(NewAccount(name="shop"))
    got = await api.client.post("/api/v1/admin/accounts", json={"name": "shop"}, headers=api.auth())
    assert got.status_code == 409
    assert got.json() == {
        "error": {
            "code": "conflict",
            "message": "an account with this name exists",
            "field": "name",
        }
    }


async def test_not_found_from_the_service_is_404(api: Api) -> None:
    got = await api.client.post("/api/v1/admin/accounts/acc_nope/keys", json={}, headers=api.auth())
    assert got.status_code == 404
    assert got.json() == {
        "error": {"code": "not_found", "message": "no such account", "field": "account_id"}
    }
    gone = await api.client.delete("/api/v1/keys/key_nope", headers=api.auth())
    assert gone.status_code == 404
    assert gone.json()["error"]["field"] == "id"


async def test_keys_of_the_caller(api: Api) -> None:
    created = await api.client.post("/api/v1/keys", json={"name": "ci"}, headers=api.auth())
    assert created.status_code == 201
    key = created.json()
    assert key["key"].startswith("sk_")
    assert [k.id for k in api.fake.keys.values()] == [key["id"]]
    listed = await api.client.get("/api/v1/keys", headers=api.auth())
    assert [(k["id"], k["key"]) for k in listed.json()] == [(key["id"], None)]
    revoked = await api.client.delete(f"/api/v1/keys/{key['id']}", headers=api.auth())
    assert revoked.status_code == 204
    assert api.fake.keys[key["id"]].revoked_at is not None


async def test_rotating_the_callback_secret(api: Api) -> None:
    got = await api.client.post("/api/v1/account/rotate-callback-secret", headers=api.auth())
    assert got.status_code == 200
    assert got.json() == {"callback_secret": api.fake.accounts[api.root_id].signing_secret}
    assert api.rotated == [api.root_id]


async def test_smpp_logins(api: Api) -> None:
    shop = await api.admin.create_account(NewAccount(name="shop"))
    other = await api.admin.create_account(NewAccount(name="other"))
    await api.admin.set_smpp_login(other.id, SmppLogin(system_id="taken", password="pw"))
    path = f"/api/v1/admin/accounts/{shop.id}/smpp"
    body = {"system_id": "shop1", "password": "pw", "allowed_ips": ["10.0.0.0/8"]}
    created = await api.client.post(path, json=body, headers=api.auth())
    assert created.status_code == 201
    assert created.json()["allowed_ips"] == ["10.0.0.0/8"]
    assert api.fake.logins["shop1"].account_id == shop.id
    taken = await api.client.post(path, json={**body, "system_id": "taken"}, headers=api.auth())
    assert taken.status_code == 409
    assert taken.json()["error"]["field"] == "system_id"
    bad = await api.client.post(path, json={**body, "allowed_ips": ["nope"]}, headers=api.auth())
    assert bad.status_code == 422
    assert bad.json()["error"] == {
        "code": "invalid_request",
        "message": "not an address or network",
        "field": "allowed_ips",
    }
    listed = await api.client.get(path, headers=api.auth())
    assert [c["system_id"] for c in listed.json()] == ["shop1"]
    deleted = await api.client.delete(f"{path}/shop1", headers=api.auth())
    assert deleted.status_code == 204
    again = await api.client.delete(f"{path}/shop1", headers=api.auth())
    assert again.status_code == 404


async def test_webhooks(api: Api) -> None:
    body = {"url": "https://hooks.example/x", "events": ["message.status"]}
    created = await api.client.post("/api/v1/webhooks", json=body, headers=api.auth())
    assert created.status_code == 201
    hook_id = created.json()["id"]
    assert list(api.fake.webhooks) == [hook_id]
    refused = await api.client.post(
        "/api/v1/webhooks", json={**body, "url": "http://10.0.0.1/"}, headers=api.auth()
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "url_not_allowed"
    got = await api.client.get(f"/api/v1/webhooks/{hook_id}", headers=api.auth())
    assert got.json()["url"] == "https://hooks.example/x"
    deliveries = await api.client.get(f"/api/v1/webhooks/{hook_id}/deliveries", headers=api.auth())
    assert deliveries.json() == []
    missing = await api.client.get("/api/v1/messages/msg_nope/deliveries", headers=api.auth())
    assert missing.status_code == 404
    assert (
        await api.client.delete(f"/api/v1/webhooks/{hook_id}", headers=api.auth())
    ).status_code == 204
    assert (
        await api.client.get(f"/api/v1/webhooks/{hook_id}", headers=api.auth())
    ).status_code == 404


async def test_connectors(api: Api) -> None:
    got = await api.client.get("/api/v1/admin/connectors", headers=api.auth())
    assert got.json() == [{"name": "smsc1", "type": "smpp", "up": False, "stats": {"submitted": 2}}]

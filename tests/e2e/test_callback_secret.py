"""Issue 10 §2.5: `callback_url` calls are signed with the account's `callback_secret`, shown
when the account is created and by `POST /api/v1/account/rotate-callback-secret`; a message's
callback deliveries are listed at `GET /api/v1/messages/{id}/deliveries` (DESIGN.md §3)."""

from __future__ import annotations

import time

from smsgate.services.events import verify
from tests.e2e.conftest import Env
from tests.e2e.test_isolation import admin_key


async def _new_account(env: Env) -> tuple[str, str]:
    """An account made through the admin API: (its callback secret, an API key of it)."""
    admin = env.auth(await admin_key(env))
    made = await env.client.post("/api/v1/admin/accounts", json={"name": "shop"}, headers=admin)
    assert made.status_code == 201, made.text
    account = made.json()
    key = await env.client.post(
        f"/api/v1/admin/accounts/{account['id']}/keys", json={}, headers=admin
    )
    assert key.status_code == 201, key.text
    return account["callback_secret"], key.json()["key"]


async def _callback_signature(env: Env, key: str, path: str) -> tuple[str, bytes]:
    sent = await env.send(key, to="+359888123456", text="hi", callback_url=env.sink.url + path)
    assert sent.status_code == 202, sent.text
    got = await env.sink.wait_status(sent.json()["id"], "delivered")
    assert got.path == path
    return got.headers["smsgate-signature"], got.body


async def test_the_callback_secret_is_shown_at_creation_and_signs_callbacks(env: Env) -> None:
    secret, key = await _new_account(env)
    assert secret.startswith("whsec_")
    header, body = await _callback_signature(env, key, "/one")
    assert verify(secret, header, body, now=time.time())
    # Shown nowhere else.
    me = await env.client.get("/api/v1/account", headers=env.auth(key))
    assert me.status_code == 200
    assert me.json().get("callback_secret") is None
    listed = await env.client.get("/api/v1/admin/accounts", headers=env.auth(await admin_key(env)))
    assert all(a.get("callback_secret") is None for a in listed.json())
    assert secret not in listed.text


async def test_a_rotated_callback_secret_signs_at_once(env: Env) -> None:
    old, key = await _new_account(env)
    await _callback_signature(env, key, "/before")  # the sender has the old secret cached
    rotated = await env.client.post("/api/v1/account/rotate-callback-secret", headers=env.auth(key))
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["callback_secret"]
    assert new.startswith("whsec_")
    assert new != old
    header, body = await _callback_signature(env, key, "/after")
    assert verify(new, header, body, now=time.time())
    assert not verify(old, header, body, now=time.time())
    # Another account's secret is untouched.
    other = await env.gateway.store.get_account(env.account_a)
    assert other is not None
    assert other.signing_secret not in (old, new)


async def test_a_messages_callback_deliveries_are_listed_with_their_attempts(env: Env) -> None:
    sent = await env.send(to="+359888123456", text="hi")
    assert sent.status_code == 202, sent.text
    message_id = sent.json()["id"]
    await env.sink.wait_status(message_id, "delivered")
    r = await env.client.get(f"/api/v1/messages/{message_id}/deliveries", headers=env.auth())
    assert r.status_code == 200, r.text
    deliveries = r.json()
    events = sorted(d["event"] for d in deliveries)
    assert events == ["message.status", "message.status"]  # sent, then delivered
    for d in deliveries:
        assert d["url"] == env.sink.url + "/cb"
        assert d["webhook_id"] is None
        assert d["status"] == "delivered"
        assert d["attempts"] == 1
        [attempt] = d["history"]
        assert attempt["status_code"] == 200
        assert attempt["error"] is None
        assert attempt["attempted_at"].endswith("Z")
    # Another account's message, or none at all: 404.
    theirs = await env.client.get(
        f"/api/v1/messages/{message_id}/deliveries", headers=env.auth(env.key_b)
    )
    assert theirs.status_code == 404
    assert theirs.json()["error"]["code"] == "not_found"
    missing = await env.client.get("/api/v1/messages/msg_nope/deliveries", headers=env.auth())
    assert missing.status_code == 404


async def test_the_openapi_schema_shows_the_new_fields(env: Env) -> None:
    schema = (await env.client.get("/openapi.json")).json()
    paths = schema["paths"]
    assert "post" in paths["/api/v1/account/rotate-callback-secret"]
    assert "get" in paths["/api/v1/messages/{message_id}/deliveries"]
    components = schema["components"]["schemas"]
    assert "callback_secret" in components["AccountOut"]["properties"]
    assert "callback_secret" in components["CallbackSecretOut"]["properties"]
    assert "history" in components["MessageDeliveryOut"]["properties"]

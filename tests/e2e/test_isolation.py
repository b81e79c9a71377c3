"""DESIGN.md §7 isolation: an account never sees or touches another account's data.

Two ordinary accounts (A owns objects, B probes them) and an admin. Every route of the app
must have a case here: the test enumerates `app.routes`, so a new endpoint without an
isolation case fails until one is written. Admin routes are found by their prefix and all
checked for 403 with an ordinary key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Route

from tests.e2e.conftest import Env

ADMIN_PREFIX = "/api/v1/admin/"
# Routes that hold no account's objects.
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    ("HEAD", "/openapi.json"),
    ("HEAD", "/docs"),
    ("HEAD", "/docs/oauth2-redirect"),
    ("HEAD", "/redoc"),
}


@dataclass
class Owned:
    """A's objects, made through the API."""

    message: str
    scheduled: str  # queued for tomorrow: A could cancel it
    batch: str
    webhook: str
    key: str
    key_secret: str
    number_id: str
    rule: str


NUMBER = "+359885000100"  # A's long number (assigned by the admin)
PEER = "+359888300001"  # wrote to A's number: A's conversation
OPTED_OUT = "+359888400001"  # on A's suppression list
# Admin-only routes outside /api/v1/admin/ (checked like those: 403 for an ordinary key).
ADMIN_ONLY = {
    ("POST", "/api/v1/numbers"),
    ("DELETE", "/api/v1/numbers/{number_id}"),
    ("GET", "/api/v1/numbers/unrouted"),
}


Case = Callable[[Env, Owned], Awaitable[None]]
CASES: dict[tuple[str, str], Case] = {}


def case(method: str, path: str) -> Callable[[Case], Case]:
    def register(fn: Case) -> Case:
        CASES[method, path] = fn
        return fn

    return register


async def make_owned(env: Env) -> Owned:
    a = env.auth(env.key_a)
    sent = await env.send(to="+359888100001", text="mine")
    assert sent.status_code == 202
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    later = await env.send(to="+359888100002", text="later", send_at=tomorrow)
    assert later.status_code == 202
    batch = await env.client.post(
        "/api/v1/batches",
        json={
            "text": "hi {name}",
            "recipients": [{"to": "+359888100003", "fields": {"name": "x"}}],
        },
        headers=a,
    )
    assert batch.status_code == 202, batch.text
    hook = await env.client.post(
        "/api/v1/webhooks",
        json={"url": env.sink.url + "/a", "events": ["message.status"]},
        headers=a,
    )
    assert hook.status_code == 201, hook.text
    key = await env.client.post("/api/v1/keys", json={"name": "second"}, headers=a)
    assert key.status_code == 201, key.text
    number_id, rule = await make_two_way(env)
    return Owned(
        sent.json()["id"],
        later.json()["id"],
        batch.json()["id"],
        hook.json()["id"],
        key.json()["id"],
        key.json()["key"],
        number_id,
        rule,
    )


async def admin_key(env: Env) -> str:
    now = env.gateway.clock.now()
    root = await env.gateway.store.account_by_name("root")
    if root is None:
        root = await env.gateway.store.create_account(name="root", role="admin", now=now)
    _, secret = await env.gateway.store.create_api_key(root.id, name="t", now=now)
    return secret


async def make_two_way(env: Env) -> tuple[str, str]:
    """A's number (assigned by an admin), a keyword rule on it, an opt-out, and a conversation
    (the simulator delivers a message from PEER to A's number)."""
    a = env.auth(env.key_a)
    number = await env.client.post(
        "/api/v1/numbers",
        json={"number": NUMBER, "account_id": env.account_a},
        headers=env.auth(await admin_key(env)),
    )
    assert number.status_code == 201, number.text
    rule = await env.client.post(
        "/api/v1/keywords",
        json={"number": NUMBER, "keyword": "INFO", "action": "reply", "reply_text": "hi"},
        headers=a,
    )
    assert rule.status_code == 201, rule.text
    optout = await env.client.post("/api/v1/optouts", json={"number": OPTED_OUT}, headers=a)
    assert optout.status_code == 201, optout.text
    await env.sim.inject_mo(PEER[1:], NUMBER[1:], "hello A")
    thread = await env.client.get(f"/api/v1/conversations/{PEER}", headers=a)
    assert thread.status_code == 200, thread.text
    return number.json()["id"], rule.json()["id"]


async def _b(env: Env, method: str, url: str, **kwargs: Any) -> Any:
    return await env.client.request(method, url, headers=env.auth(env.key_b), **kwargs)


async def _a(env: Env, method: str, url: str, **kwargs: Any) -> Any:
    return await env.client.request(method, url, headers=env.auth(env.key_a), **kwargs)


async def _refused(env: Env, method: str, url: str, **kwargs: Any) -> None:
    """B gets 404 where A gets an answer for the same object."""
    theirs = await _b(env, method, url, **kwargs)
    assert theirs.status_code == 404, (method, url, theirs.text)
    assert theirs.json()["error"]["code"] == "not_found"


# ---- messages and batches -----------------------------------------------------------------


@case("GET", "/api/v1/messages/{message_id}")
async def _get_message(env: Env, o: Owned) -> None:
    assert (await _a(env, "GET", f"/api/v1/messages/{o.message}")).status_code == 200
    await _refused(env, "GET", f"/api/v1/messages/{o.message}")


@case("GET", "/api/v1/messages/{message_id}/events")
async def _events(env: Env, o: Owned) -> None:
    assert (await _a(env, "GET", f"/api/v1/messages/{o.message}/events")).status_code == 200
    await _refused(env, "GET", f"/api/v1/messages/{o.message}/events")


@case("GET", "/api/v1/messages/{message_id}/deliveries")
async def _message_deliveries(env: Env, o: Owned) -> None:
    assert (await _a(env, "GET", f"/api/v1/messages/{o.message}/deliveries")).status_code == 200
    await _refused(env, "GET", f"/api/v1/messages/{o.message}/deliveries")


@case("POST", "/api/v1/messages/{message_id}/cancel")
async def _cancel(env: Env, o: Owned) -> None:
    await _refused(env, "POST", f"/api/v1/messages/{o.scheduled}/cancel")
    still = await _a(env, "GET", f"/api/v1/messages/{o.scheduled}")
    assert still.json()["status"] != "canceled"
    mine = await _a(env, "POST", f"/api/v1/messages/{o.scheduled}/cancel")
    assert mine.status_code == 200
    assert mine.json()["status"] == "canceled"


@case("GET", "/api/v1/messages")
async def _list_messages(env: Env, o: Owned) -> None:
    own = await _b(env, "POST", "/api/v1/messages", json={"to": "+359888200001", "text": "b"})
    assert own.status_code == 202
    mine = {m["id"] for m in (await _a(env, "GET", "/api/v1/messages")).json()["data"]}
    assert {o.message, o.scheduled} <= mine
    assert own.json()["id"] not in mine
    for query in ({}, {"to": "+359888100001"}, {"batch": o.batch}, {"status": "queued"}):
        listed = await _b(env, "GET", "/api/v1/messages", params=query)
        assert listed.status_code == 200, listed.text
        ids = {m["id"] for m in listed.json()["data"]}
        assert not ids & mine, query


@case("POST", "/api/v1/messages")
async def _send(env: Env, o: Owned) -> None:
    # Creates B's own message; it is B's, not A's (a cursor from A's list gives B nothing).
    sent = await _b(env, "POST", "/api/v1/messages", json={"to": "+359888200002", "text": "b"})
    assert sent.status_code == 202
    await _refused_for_a(env, f"/api/v1/messages/{sent.json()['id']}")
    paged = await _b(env, "GET", "/api/v1/messages", params={"cursor": o.message})
    assert not {m["id"] for m in paged.json()["data"]} & {o.message, o.scheduled}


async def _refused_for_a(env: Env, url: str) -> None:
    theirs = await _a(env, "GET", url)
    assert theirs.status_code == 404, (url, theirs.text)


@case("POST", "/api/v1/messages/preview")
async def _preview(env: Env, o: Owned) -> None:
    # Holds no data: a pure function of the text.
    assert (
        await _b(env, "POST", "/api/v1/messages/preview", json={"text": "x"})
    ).status_code == 200


@case("POST", "/api/v1/batches")
async def _create_batch(env: Env, o: Owned) -> None:
    made = await _b(
        env, "POST", "/api/v1/batches", json={"text": "t", "recipients": [{"to": "+359888200003"}]}
    )
    assert made.status_code == 202, made.text
    await _refused_for_a(env, f"/api/v1/batches/{made.json()['id']}")


@case("GET", "/api/v1/batches/{batch_id}")
async def _get_batch(env: Env, o: Owned) -> None:
    assert (await _a(env, "GET", f"/api/v1/batches/{o.batch}")).status_code == 200
    await _refused(env, "GET", f"/api/v1/batches/{o.batch}")


# ---- webhooks -----------------------------------------------------------------------------


@case("POST", "/api/v1/webhooks")
async def _create_webhook(env: Env, o: Owned) -> None:
    made = await _b(env, "POST", "/api/v1/webhooks", json={"url": env.sink.url + "/b"})
    assert made.status_code == 201, made.text
    await _refused_for_a(env, f"/api/v1/webhooks/{made.json()['id']}")


@case("GET", "/api/v1/webhooks")
async def _list_webhooks(env: Env, o: Owned) -> None:
    assert o.webhook in {h["id"] for h in (await _a(env, "GET", "/api/v1/webhooks")).json()}
    assert o.webhook not in {h["id"] for h in (await _b(env, "GET", "/api/v1/webhooks")).json()}


@case("GET", "/api/v1/webhooks/{webhook_id}")
async def _get_webhook(env: Env, o: Owned) -> None:
    assert (await _a(env, "GET", f"/api/v1/webhooks/{o.webhook}")).status_code == 200
    await _refused(env, "GET", f"/api/v1/webhooks/{o.webhook}")


@case("DELETE", "/api/v1/webhooks/{webhook_id}")
async def _delete_webhook(env: Env, o: Owned) -> None:
    await _refused(env, "DELETE", f"/api/v1/webhooks/{o.webhook}")
    assert (await _a(env, "GET", f"/api/v1/webhooks/{o.webhook}")).status_code == 200


@case("GET", "/api/v1/webhooks/{webhook_id}/deliveries")
async def _deliveries(env: Env, o: Owned) -> None:
    assert (await _a(env, "GET", f"/api/v1/webhooks/{o.webhook}/deliveries")).status_code == 200
    await _refused(env, "GET", f"/api/v1/webhooks/{o.webhook}/deliveries")


# ---- account and keys ---------------------------------------------------------------------


@case("GET", "/api/v1/account")
async def _account(env: Env, o: Owned) -> None:
    assert (await _b(env, "GET", "/api/v1/account")).json()["id"] == env.account_b
    assert (await _a(env, "GET", "/api/v1/account")).json()["id"] == env.account_a


@case("POST", "/api/v1/account/rotate-callback-secret")
async def _rotate_callback_secret(env: Env, o: Owned) -> None:
    # B rotates its own secret; A's is untouched.
    before = await env.gateway.store.get_account(env.account_a)
    rotated = await _b(env, "POST", "/api/v1/account/rotate-callback-secret")
    assert rotated.status_code == 200, rotated.text
    after = await env.gateway.store.get_account(env.account_a)
    assert before is not None
    assert after is not None
    assert after.signing_secret == before.signing_secret
    assert rotated.json()["callback_secret"] != after.signing_secret


@case("GET", "/api/v1/keys")
async def _list_keys(env: Env, o: Owned) -> None:
    assert o.key in {k["id"] for k in (await _a(env, "GET", "/api/v1/keys")).json()}
    listed = (await _b(env, "GET", "/api/v1/keys")).json()
    assert o.key not in {k["id"] for k in listed}
    assert all(k["key"] is None for k in listed)  # secrets are shown once, at creation


@case("POST", "/api/v1/keys")
async def _create_key(env: Env, o: Owned) -> None:
    made = await _b(env, "POST", "/api/v1/keys", json={"name": "b2"})
    assert made.status_code == 201
    me = await env.client.get("/api/v1/account", headers=env.auth(made.json()["key"]))
    assert me.json()["id"] == env.account_b


@case("DELETE", "/api/v1/keys/{key_id}")
async def _revoke_key(env: Env, o: Owned) -> None:
    await _refused(env, "DELETE", f"/api/v1/keys/{o.key}")
    still = await env.client.get("/api/v1/account", headers=env.auth(o.key_secret))
    assert still.status_code == 200
    assert still.json()["id"] == env.account_a


# ---- two-way: numbers, keyword rules, opt-outs, conversations -----------------------------


@case("GET", "/api/v1/numbers")
async def _list_numbers(env: Env, o: Owned) -> None:
    assert o.number_id in {n["id"] for n in (await _a(env, "GET", "/api/v1/numbers")).json()}
    assert o.number_id not in {n["id"] for n in (await _b(env, "GET", "/api/v1/numbers")).json()}


@case("GET", "/api/v1/numbers/{number_id}")
async def _get_number(env: Env, o: Owned) -> None:
    assert (await _a(env, "GET", f"/api/v1/numbers/{o.number_id}")).status_code == 200
    await _refused(env, "GET", f"/api/v1/numbers/{o.number_id}")


@case("POST", "/api/v1/keywords")
async def _create_rule(env: Env, o: Owned) -> None:
    # B cannot hang a rule on A's number.
    body = {"number": NUMBER, "keyword": "B", "action": "reply", "reply_text": "b"}
    await _refused(env, "POST", "/api/v1/keywords", json=body)
    rules = (await _a(env, "GET", "/api/v1/keywords")).json()
    assert [r["id"] for r in rules] == [o.rule]


@case("GET", "/api/v1/keywords")
async def _list_rules(env: Env, o: Owned) -> None:
    assert o.rule in {r["id"] for r in (await _a(env, "GET", "/api/v1/keywords")).json()}
    for query in ({}, {"number": NUMBER}):
        listed = await _b(env, "GET", "/api/v1/keywords", params=query)
        assert listed.status_code in (200, 404), listed.text
        if listed.status_code == 200:
            assert o.rule not in {r["id"] for r in listed.json()}


@case("GET", "/api/v1/keywords/{rule_id}")
async def _get_rule(env: Env, o: Owned) -> None:
    assert (await _a(env, "GET", f"/api/v1/keywords/{o.rule}")).status_code == 200
    await _refused(env, "GET", f"/api/v1/keywords/{o.rule}")


@case("DELETE", "/api/v1/keywords/{rule_id}")
async def _delete_rule(env: Env, o: Owned) -> None:
    await _refused(env, "DELETE", f"/api/v1/keywords/{o.rule}")
    assert (await _a(env, "GET", f"/api/v1/keywords/{o.rule}")).status_code == 200


@case("GET", "/api/v1/optouts")
async def _list_optouts(env: Env, o: Owned) -> None:
    mine = (await _a(env, "GET", "/api/v1/optouts")).json()["data"]
    assert OPTED_OUT in {x["number"] for x in mine}
    theirs = (await _b(env, "GET", "/api/v1/optouts")).json()["data"]
    assert OPTED_OUT not in {x["number"] for x in theirs}


@case("POST", "/api/v1/optouts")
async def _add_optout(env: Env, o: Owned) -> None:
    # B's own list; A's entry is untouched and B's does not show up for A.
    made = await _b(env, "POST", "/api/v1/optouts", json={"number": "+359888400002"})
    assert made.status_code == 201, made.text
    await _refused_for_a(env, "/api/v1/optouts/+359888400002")


@case("GET", "/api/v1/optouts/{number}")
async def _get_optout(env: Env, o: Owned) -> None:
    assert (await _a(env, "GET", f"/api/v1/optouts/{OPTED_OUT}")).status_code == 200
    await _refused(env, "GET", f"/api/v1/optouts/{OPTED_OUT}")


@case("DELETE", "/api/v1/optouts/{number}")
async def _delete_optout(env: Env, o: Owned) -> None:
    await _refused(env, "DELETE", f"/api/v1/optouts/{OPTED_OUT}")
    assert (await _a(env, "GET", f"/api/v1/optouts/{OPTED_OUT}")).status_code == 200


@case("GET", "/api/v1/conversations")
async def _list_conversations(env: Env, o: Owned) -> None:
    mine = (await _a(env, "GET", "/api/v1/conversations")).json()["data"]
    assert mine, "A has a conversation"
    theirs = (await _b(env, "GET", "/api/v1/conversations")).json()["data"]
    assert theirs == []


@case("GET", "/api/v1/conversations/{peer}")
async def _read_conversation(env: Env, o: Owned) -> None:
    await _refused(env, "GET", f"/api/v1/conversations/{PEER}")
    assert (await _a(env, "GET", f"/api/v1/conversations/{PEER}")).status_code == 200


@case("POST", "/api/v1/conversations/{peer}")
async def _reply(env: Env, o: Owned) -> None:
    before = len((await _b(env, "GET", "/api/v1/messages")).json()["data"])
    await _refused(env, "POST", f"/api/v1/conversations/{PEER}", json={"text": "not yours"})
    assert len((await _b(env, "GET", "/api/v1/messages")).json()["data"]) == before


# ---- the test -----------------------------------------------------------------------------


def _walk(routes: list[Any], prefix: str, out: set[tuple[str, str]]) -> None:
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI's lazily included router
        if included is not None:
            context = getattr(route, "include_context", None)
            _walk(included.routes, prefix + getattr(context, "prefix", ""), out)
        elif isinstance(route, APIRoute | Route):
            for method in route.methods or ():
                out.add((method, prefix + route.path))


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app serves: its route tree, and its OpenAPI operations."""
    out: set[tuple[str, str]] = set()
    _walk(list(app.routes), "", out)
    for path, operations in app.openapi()["paths"].items():
        out.update((method.upper(), path) for method in operations)
    return out


def _fill(path: str, value: str) -> str:
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + value + path[end + 1 :]
    return path


async def test_every_route_refuses_the_other_accounts_objects(env: Env) -> None:
    app: FastAPI = env.gateway.api.app  # type: ignore[attr-defined]  # FastSend wraps the app
    routes = app_routes(app)
    admin = {r for r in routes if r[1].startswith(ADMIN_PREFIX)} | ADMIN_ONLY
    uncovered = routes - admin - PUBLIC - CASES.keys()
    assert not uncovered, f"routes without an isolation case: {sorted(uncovered)}"
    stale = CASES.keys() - routes
    assert not stale, f"isolation cases for routes that are gone: {sorted(stale)}"
    owned = await make_owned(env)
    for (method, path), check in sorted(CASES.items()):
        try:
            await check(env, owned)
        except AssertionError as exc:
            raise AssertionError(f"{method} {path}: {exc}") from exc
    # Admin-only: ordinary keys get 403 (and no data) on every admin route.
    for method, path in sorted(admin):
        url = _fill(path, env.account_a)
        body = {} if method in ("POST", "PUT", "PATCH") else None
        got = await env.client.request(method, url, json=body, headers=env.auth(env.key_b))
        assert got.status_code == 403, (method, path, got.text)
        assert got.json()["error"]["code"] == "forbidden"
    assert admin, "the app has admin routes"


async def test_admin_routes_answer_an_admin(env: Env) -> None:
    """The 403s above are about the role, not broken routes: an admin key gets through."""
    secret = await admin_key(env)
    listed = await env.client.get("/api/v1/admin/accounts", headers=env.auth(secret))
    assert listed.status_code == 200
    assert {env.account_a, env.account_b} <= {a["id"] for a in listed.json()}
    connectors = await env.client.get("/api/v1/admin/connectors", headers=env.auth(secret))
    assert connectors.status_code == 200

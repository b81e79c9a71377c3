"""Authentication, the one error shape, and what the app refuses before any route runs."""

from __future__ import annotations

import pytest

from .conftest import Api, assert_error


async def test_health_and_readiness_need_no_key(api: Api) -> None:
    assert (await api.client.get("/healthz")).json() == {"status": "ok"}
    ready = await api.client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ok", "database": True})


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwdw==", "Token abc", "Bearer not-a-key"],
)
async def test_a_missing_or_wrong_key_is_401_with_a_challenge(api: Api, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    for method, path in [
        ("GET", "/api/v1/messages"),
        ("POST", "/api/v1/messages"),
        ("GET", "/api/v1/webhooks"),
        ("GET", "/api/v1/account"),
        ("GET", "/api/v1/admin/accounts"),
        ("GET", "/api/v1/numbers"),
        ("GET", "/api/v1/optouts"),
    ]:
        resp = await api.client.request(method, path, headers=headers, json={})
        assert_error(resp, 401, "unauthorized", None)
        assert resp.headers["www-authenticate"] == "Bearer"


async def test_a_revoked_key_is_refused(api: Api) -> None:
    made = await api.client.post("/api/v1/keys", json={"name": "temp"}, headers=api.a.auth)
    assert made.status_code == 201
    key = made.json()
    auth = {"Authorization": f"Bearer {key['key']}"}
    assert (await api.client.get("/api/v1/account", headers=auth)).status_code == 200
    gone = await api.client.delete(f"/api/v1/keys/{key['id']}", headers=api.a.auth)
    assert gone.status_code == 204
    assert_error(await api.client.get("/api/v1/account", headers=auth), 401, "unauthorized")


async def test_user_keys_get_403_on_admin_routes(api: Api) -> None:
    for method, path, body in [
        ("GET", "/api/v1/admin/accounts", None),
        ("POST", "/api/v1/admin/accounts", {"name": "x"}),
        ("POST", f"/api/v1/admin/accounts/{api.a.id}/keys", {}),
        ("GET", "/api/v1/admin/connectors", None),
        ("GET", f"/api/v1/admin/accounts/{api.a.id}/smpp", None),
        ("POST", f"/api/v1/admin/accounts/{api.a.id}/smpp", {"system_id": "s", "password": "p"}),
        ("DELETE", f"/api/v1/admin/accounts/{api.a.id}/smpp/s", None),
        ("POST", "/api/v1/numbers", {"number": "+359888999000", "account_id": api.a.id}),
        ("GET", "/api/v1/numbers/unrouted", None),
        ("DELETE", "/api/v1/numbers/num_x", None),
    ]:
        resp = await api.client.request(method, path, json=body, headers=api.a.auth)
        assert_error(resp, 403, "forbidden", None)


async def test_an_unknown_route_or_method_has_the_error_shape(api: Api) -> None:
    assert_error(await api.client.get("/api/v1/nothing-here", headers=api.a.auth), 404, "not_found")
    resp = await api.client.put("/api/v1/messages", json={}, headers=api.a.auth)
    assert_error(resp, 405, "method_not_allowed")


async def test_bodies_that_are_not_json_are_refused(api: Api) -> None:
    resp = await api.client.post(
        "/api/v1/webhooks",
        content=b"url=http://x",
        headers={**api.a.auth, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(resp, 415, "unsupported_media_type")
    resp = await api.client.post(
        "/api/v1/webhooks",
        content=b"{not json",
        headers={**api.a.auth, "Content-Type": "application/json"},
    )
    assert_error(resp, 400, "invalid_json", "body")


async def test_validation_errors_name_the_field(api: Api) -> None:
    resp = await api.client.post(
        "/api/v1/webhooks", json={"url": "http://127.0.0.1/x", "events": []}, headers=api.a.auth
    )
    assert_error(resp, 422, "invalid_request", "events")
    resp = await api.client.post(
        "/api/v1/webhooks", json={"url": "http://127.0.0.1/x", "extra": 1}, headers=api.a.auth
    )
    assert_error(resp, 422, "invalid_request", "extra")
    resp = await api.client.get("/api/v1/messages?limit=0", headers=api.a.auth)
    assert_error(resp, 422, "invalid_request", "limit")


async def test_a_body_over_the_limit_is_413(api: Api) -> None:
    limit = api.gateway.settings.max_body_bytes
    resp = await api.client.post(
        "/api/v1/batches",
        content=b'{"text": "' + b"x" * limit + b'"}',
        headers={**api.a.auth, "Content-Type": "application/json"},
    )
    assert_error(resp, 413, "body_too_large")

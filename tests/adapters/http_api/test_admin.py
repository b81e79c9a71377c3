"""/api/v1/account, /api/v1/keys and /api/v1/admin/...: conflicts, 404s and isolation."""

from __future__ import annotations

import pytest

from .conftest import NOT_FOUND_IDS, Api, assert_error


async def test_own_account_and_callback_secret_rotation(api: Api) -> None:
    me = await api.client.get("/api/v1/account", headers=api.a.auth)
    assert (me.status_code, me.json()["id"], me.json()["name"]) == (200, api.a.id, "alpha")
    assert "callback_secret" not in me.json()
    first = await api.client.post("/api/v1/account/rotate-callback-secret", headers=api.a.auth)
    second = await api.client.post("/api/v1/account/rotate-callback-secret", headers=api.a.auth)
    assert first.status_code == second.status_code == 200
    assert first.json()["callback_secret"] != second.json()["callback_secret"]


async def test_keys_are_the_accounts_own(api: Api) -> None:
    made = await api.client.post("/api/v1/keys", json={"name": "ci"}, headers=api.a.auth)
    assert made.status_code == 201
    key = made.json()
    assert key["key"].startswith(key["prefix"])
    listed = await api.client.get("/api/v1/keys", headers=api.a.auth)
    assert key["id"] in [k["id"] for k in listed.json()]
    assert all(k["key"] is None for k in listed.json())  # secrets shown at creation only
    # Another account can neither see nor revoke it.
    assert key["id"] not in [
        k["id"] for k in (await api.client.get("/api/v1/keys", headers=api.b.auth)).json()
    ]
    theirs = await api.client.delete(f"/api/v1/keys/{key['id']}", headers=api.b.auth)
    assert_error(theirs, 404, "not_found", "id")
    auth = {"Authorization": f"Bearer {key['key']}"}
    assert (await api.client.get("/api/v1/account", headers=auth)).json()["id"] == api.a.id


@pytest.mark.parametrize("key_id", NOT_FOUND_IDS)
async def test_revoking_an_unknown_key_is_404(api: Api, key_id: str) -> None:
    resp = await api.client.delete(f"/api/v1/keys/{key_id}", headers=api.a.auth)
    assert_error(resp, 404, "not_found")


async def test_accounts_are_created_once_per_name(api: Api) -> None:
    listed = await api.client.get("/api/v1/admin/accounts", headers=api.admin.auth)
    assert {a["name"] for a in listed.json()} == {"root", "alpha", "beta"}
    again = await api.client.post(
        "/api/v1/admin/accounts", json={"name": "alpha"}, headers=api.admin.auth
    )
    assert_error(again, 409, "conflict", "name")
    bad = await api.client.post(
        "/api/v1/admin/accounts", json={"name": "x", "role": "root"}, headers=api.admin.auth
    )
    assert_error(bad, 422, "invalid_request", "role")
    made = await api.client.post(
        "/api/v1/admin/accounts",
        json={"name": "gamma", "default_country": "de"},
        headers=api.admin.auth,
    )
    assert made.status_code == 201
    assert (made.json()["default_country"], bool(made.json()["callback_secret"])) == ("DE", True)


@pytest.mark.parametrize("account_id", NOT_FOUND_IDS)
async def test_admin_calls_on_an_unknown_account_are_404(api: Api, account_id: str) -> None:
    # An id with an escaped slash matches no route at all: a 404 without a field.
    field = None if "%2f" in account_id else "account_id"
    for method, path, body in [
        ("POST", f"/api/v1/admin/accounts/{account_id}/keys", {}),
        ("GET", f"/api/v1/admin/accounts/{account_id}/smpp", None),
        ("POST", f"/api/v1/admin/accounts/{account_id}/smpp", {"system_id": "s", "password": "p"}),
    ]:
        resp = await api.client.request(method, path, json=body, headers=api.admin.auth)
        assert_error(resp, 404, "not_found", field)


async def test_smpp_logins(api: Api) -> None:
    path = f"/api/v1/admin/accounts/{api.a.id}/smpp"
    made = await api.client.post(
        path,
        json={"system_id": "alpha1", "password": "pw", "allowed_ips": ["127.0.0.1", "10.0.0.0/8"]},
        headers=api.admin.auth,
    )
    assert made.status_code == 201
    assert made.json()["allowed_ips"] == ["127.0.0.1", "10.0.0.0/8"]
    assert "password" not in made.json()
    assert "password_hash" not in made.json()
    listed = await api.client.get(path, headers=api.admin.auth)
    assert [c["system_id"] for c in listed.json()] == ["alpha1"]
    # The same system_id for another account is a conflict; a bad network names its field.
    taken = await api.client.post(
        f"/api/v1/admin/accounts/{api.b.id}/smpp",
        json={"system_id": "alpha1", "password": "pw"},
        headers=api.admin.auth,
    )
    assert_error(taken, 409, "conflict", "system_id")
    bad_ip = await api.client.post(
        path,
        json={"system_id": "alpha2", "password": "pw", "allowed_ips": ["nope"]},
        headers=api.admin.auth,
    )
    assert_error(bad_ip, 422, "invalid_request", "allowed_ips")
    too_long = await api.client.post(
        path, json={"system_id": "alpha2", "password": "123456789"}, headers=api.admin.auth
    )
    assert_error(too_long, 422, "invalid_request", "password")
    # Deleting it under another account finds nothing; under its own, once.
    other = await api.client.delete(
        f"/api/v1/admin/accounts/{api.b.id}/smpp/alpha1", headers=api.admin.auth
    )
    assert_error(other, 404, "not_found", "system_id")
    gone = await api.client.delete(f"{path}/alpha1", headers=api.admin.auth)
    assert gone.status_code == 204
    assert (await api.client.get(path, headers=api.admin.auth)).json() == []


async def test_connector_status_lists_the_configured_connectors(api: Api) -> None:
    resp = await api.client.get("/api/v1/admin/connectors", headers=api.admin.auth)
    assert (resp.status_code, resp.json()) == (200, [])

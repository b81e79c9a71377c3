"""/api/v1/webhooks: the secret shown once, 404s, and each account sees its own only."""

from __future__ import annotations

import pytest

from .conftest import NOT_FOUND_IDS, Api, assert_error

URL = "http://127.0.0.1:9/hook"


async def test_create_list_get_delete(api: Api) -> None:
    made = await api.client.post(
        "/api/v1/webhooks",
        json={"url": URL, "events": ["message.status", "message.status"], "description": "d"},
        headers=api.a.auth,
    )
    assert made.status_code == 201
    hook = made.json()
    assert hook["secret"]  # shown at creation only
    assert hook["events"] == ["message.status"]
    listed = await api.client.get("/api/v1/webhooks", headers=api.a.auth)
    assert [h["id"] for h in listed.json()] == [hook["id"]]
    got = await api.client.get(f"/api/v1/webhooks/{hook['id']}", headers=api.a.auth)
    assert (got.status_code, got.json()["url"], got.json().get("secret")) == (200, URL, None)
    deliveries = await api.client.get(
        f"/api/v1/webhooks/{hook['id']}/deliveries", headers=api.a.auth
    )
    assert (deliveries.status_code, deliveries.json()) == (200, [])
    gone = await api.client.delete(f"/api/v1/webhooks/{hook['id']}", headers=api.a.auth)
    assert gone.status_code == 204
    again = await api.client.delete(f"/api/v1/webhooks/{hook['id']}", headers=api.a.auth)
    assert_error(again, 404, "not_found", "id")


@pytest.mark.parametrize("webhook_id", NOT_FOUND_IDS)
async def test_unknown_and_malformed_ids_are_404(api: Api, webhook_id: str) -> None:
    for method, path in [
        ("GET", f"/api/v1/webhooks/{webhook_id}"),
        ("DELETE", f"/api/v1/webhooks/{webhook_id}"),
        ("GET", f"/api/v1/webhooks/{webhook_id}/deliveries"),
    ]:
        assert_error(await api.client.request(method, path, headers=api.a.auth), 404, "not_found")


async def test_another_accounts_webhook_does_not_exist_for_it(api: Api) -> None:
    hook = (await api.client.post("/api/v1/webhooks", json={"url": URL}, headers=api.a.auth)).json()
    assert (await api.client.get("/api/v1/webhooks", headers=api.b.auth)).json() == []
    for method, path in [
        ("GET", f"/api/v1/webhooks/{hook['id']}"),
        ("GET", f"/api/v1/webhooks/{hook['id']}/deliveries"),
        ("DELETE", f"/api/v1/webhooks/{hook['id']}"),
    ]:
        resp = await api.client.request(method, path, headers=api.b.auth)
        assert_error(resp, 404, "not_found", "id")
    still = await api.client.get(f"/api/v1/webhooks/{hook['id']}", headers=api.a.auth)
    assert still.status_code == 200


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"url": "not a url"}, "invalid_request", "url"),
        ({"url": "file:///etc/passwd"}, "invalid_request", "url"),
        ({"url": "http://10.1.2.3/hook"}, "url_not_allowed", "url"),  # an address, not looked up
        ({"url": URL, "events": ["message.exploded"]}, "invalid_request", "events[0]"),
        ({"url": ""}, "invalid_request", "url"),
        ({"url": URL, "description": "x" * 501}, "invalid_request", "description"),
    ],
)
async def test_a_bad_webhook_names_its_field(
    api: Api, body: dict[str, object], code: str, field: str
) -> None:
    resp = await api.client.post("/api/v1/webhooks", json=body, headers=api.a.auth)
    assert_error(resp, 422, code, field)

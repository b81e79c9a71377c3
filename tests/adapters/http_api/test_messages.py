"""/api/v1/messages and /api/v1/batches: answers, paging, 404s and isolation between accounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from .conftest import NOT_FOUND_IDS, Api, assert_error

# A day from now: scheduled, so it stays put (and cancelable) whatever the dispatcher does.
TOMORROW = (datetime.now(UTC) + timedelta(days=1)).isoformat()


async def test_send_then_read_back(api: Api) -> None:
    sent = await api.send(api.a, text="hello there", reference="r-1")
    assert sent.status_code == 202
    message = sent.json()
    assert message["to"] == "+359888123456"
    assert message["status"] in {"queued", "sending", "failed"}  # no connector: no route
    got = await api.client.get(f"/api/v1/messages/{message['id']}", headers=api.a.auth)
    assert got.status_code == 200
    assert (got.json()["id"], got.json()["text"], got.json()["reference"]) == (
        message["id"],
        "hello there",
        "r-1",
    )
    events = await api.client.get(f"/api/v1/messages/{message['id']}/events", headers=api.a.auth)
    assert events.status_code == 200
    assert events.json()[0]["status"] == "queued"


async def test_the_same_idempotency_key_answers_the_same_message(api: Api) -> None:
    headers = {**api.a.auth, "Idempotency-Key": "once"}
    body = {"to": "+359888123456", "from": "ACME", "text": "once"}
    first = await api.client.post("/api/v1/messages", json=body, headers=headers)
    again = await api.client.post("/api/v1/messages", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json()["id"] == again.json()["id"]
    # Another account's key space is its own.
    other = await api.client.post(
        "/api/v1/messages", json=body, headers={**api.b.auth, "Idempotency-Key": "once"}
    )
    assert other.status_code == 202
    assert other.json()["id"] != first.json()["id"]


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"to": "+359888123456"}, 422, "invalid_request", "text"),
        ({"to": "not a number", "text": "x"}, 422, "invalid_number", "to"),
        (
            {"to": "+359888123456", "text": "x", "category": "spam"},
            422,
            "invalid_request",
            "category",
        ),
        ({"to": "+359888123456", "text": 5}, 422, "invalid_request", "text"),
        (
            {"to": "+359888123456", "text": "x", "validity_s": 1},
            422,
            "invalid_request",
            "validity_s",
        ),
        (
            {"to": "+359888123456", "text": "x", "send_at": "2099-01-01T00:00:00Z"},
            422,
            "invalid_request",
            "send_at",
        ),
        (
            {"to": "+359888123456", "text": "x", "callback_url": "ftp://x"},
            422,
            "invalid_request",
            "callback_url",
        ),
    ],
)
async def test_a_bad_message_names_its_field(
    api: Api, body: dict[str, object], status: int, code: str, field: str
) -> None:
    resp = await api.client.post("/api/v1/messages", json=body, headers=api.a.auth)
    assert_error(resp, status, code, field)


async def test_an_empty_body_is_refused(api: Api) -> None:
    resp = await api.client.post(
        "/api/v1/messages", content=b"", headers={**api.a.auth, "Content-Type": "application/json"}
    )
    assert_error(resp, 422, "invalid_request", "body")


@pytest.mark.parametrize("message_id", NOT_FOUND_IDS)
async def test_unknown_and_malformed_ids_are_404(api: Api, message_id: str) -> None:
    for method, path in [
        ("GET", f"/api/v1/messages/{message_id}"),
        ("GET", f"/api/v1/messages/{message_id}/events"),
        ("GET", f"/api/v1/messages/{message_id}/deliveries"),
        ("POST", f"/api/v1/messages/{message_id}/cancel"),
        ("GET", f"/api/v1/batches/{message_id}"),
    ]:
        resp = await api.client.request(method, path, headers=api.a.auth)
        assert_error(resp, 404, "not_found")


async def test_another_accounts_message_and_batch_do_not_exist_for_it(api: Api) -> None:
    mine = (await api.send(api.a, send_at=TOMORROW)).json()
    batch = await api.client.post(
        "/api/v1/batches",
        json={"recipients": [{"to": "+359888123456"}], "from": "ACME", "text": "hi {to}"},
        headers=api.a.auth,
    )
    assert batch.status_code == 202
    for method, path in [
        ("GET", f"/api/v1/messages/{mine['id']}"),
        ("GET", f"/api/v1/messages/{mine['id']}/events"),
        ("GET", f"/api/v1/messages/{mine['id']}/deliveries"),
        ("POST", f"/api/v1/messages/{mine['id']}/cancel"),
        ("GET", f"/api/v1/batches/{batch.json()['id']}"),
    ]:
        resp = await api.client.request(method, path, headers=api.b.auth)
        assert_error(resp, 404, "not_found", "id")
    assert (await api.client.get("/api/v1/messages", headers=api.b.auth)).json() == {
        "data": [],
        "next_cursor": None,
    }
    # Still there, and still the owner's to cancel.
    canceled = await api.client.post(f"/api/v1/messages/{mine['id']}/cancel", headers=api.a.auth)
    assert (canceled.status_code, canceled.json()["status"]) == (200, "canceled")


async def test_listing_pages_through_every_message_once(api: Api) -> None:
    ids = [(await api.send(api.a, text=f"m{i}")).json()["id"] for i in range(7)]
    await api.send(api.b, text="not in a's list")
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 3}
        if cursor is not None:
            params["cursor"] = cursor
        page = await api.client.get("/api/v1/messages", params=params, headers=api.a.auth)
        assert page.status_code == 200
        body = page.json()
        assert len(body["data"]) <= 3
        seen += [m["id"] for m in body["data"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == sorted(ids, reverse=True)  # newest first, each once


async def test_list_filters_are_checked(api: Api) -> None:
    await api.send(api.a, to="+359888123456")
    await api.send(api.a, to="+359888654321")
    # A national number is read in the account's default country (BG here).
    found = await api.client.get("/api/v1/messages?to=0888654321", headers=api.a.auth)
    assert [m["to"] for m in found.json()["data"]] == ["+359888654321"]
    assert_error(
        await api.client.get("/api/v1/messages?status=bogus", headers=api.a.auth),
        422,
        "invalid_request",
        "status",
    )
    assert_error(
        await api.client.get("/api/v1/messages?to=abc", headers=api.a.auth),
        422,
        "invalid_request",
        "to",
    )
    assert_error(
        await api.client.get("/api/v1/messages?direction=sideways", headers=api.a.auth),
        422,
        "invalid_request",
        "direction",
    )


async def test_a_batch_counts_its_messages_and_names_a_missing_field(api: Api) -> None:
    made = await api.client.post(
        "/api/v1/batches",
        json={
            "recipients": [
                {"to": "+359888123456", "fields": {"name": "Ann"}},
                {"to": "+359888654321", "fields": {"name": "Bob"}},
            ],
            "from": "ACME",
            "text": "Hi {name}",
            "send_at": TOMORROW,
        },
        headers=api.a.auth,
    )
    assert made.status_code == 202
    batch = made.json()
    assert (batch["total"], batch["counts"]) == (2, {"scheduled": 2})
    got = await api.client.get(f"/api/v1/batches/{batch['id']}", headers=api.a.auth)
    assert got.json()["counts"] == {"scheduled": 2}
    missing = await api.client.post(
        "/api/v1/batches",
        json={"recipients": [{"to": "+359888123456"}], "text": "Hi {name}"},
        headers=api.a.auth,
    )
    assert_error(missing, 422, "invalid_request", "recipients[0].fields.name")


async def test_preview_counts_parts_and_refuses_what_gsm7_cannot_carry(api: Api) -> None:
    resp = await api.client.post(
        "/api/v1/messages/preview", json={"text": "x" * 161}, headers=api.a.auth
    )
    assert (resp.status_code, resp.json()["parts"], resp.json()["encoding"]) == (200, 2, "gsm7")
    refused = await api.client.post(
        "/api/v1/messages/preview",
        json={"text": "€ ok, Ж not", "encoding": "gsm7"},
        headers=api.a.auth,
    )
    assert_error(refused, 422, "invalid_request", "text")

"""Issue 3 end to end: REST in → durable outbox → SMPP out → receipts → signed webhooks."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smsgate.codec import split_udh
from smsgate.services.events import verify
from tests.e2e.conftest import Env, running_env


async def test_send_is_delivered_and_webhook_verifies(env: Env) -> None:
    r = await env.send(to="+359888123456", text="Hello from smsgate", reference="order-1")
    assert r.status_code == 202
    body = r.json()
    assert body["status"] == "queued"
    assert body["to"] == "+359888123456"
    assert body["encoding"] == "gsm7"
    assert body["parts"] == 1
    delivered = await env.sink.wait_status(body["id"], "delivered")
    got = (await env.client.get(f"/api/v1/messages/{body['id']}", headers=env.auth())).json()
    assert got["status"] == "delivered"
    assert got["delivered_at"] is not None
    assert got["connector"] == "sim"
    assert got["reference"] == "order-1"
    # The signature verifies with the account's signing secret and not with another one.
    account = await env.gateway.store.get_account(env.account_a)
    assert account is not None
    header = delivered.headers["smsgate-signature"]
    assert verify(account.signing_secret, header, delivered.body, now=time.time())
    assert not verify("whsec_wrong", header, delivered.body, now=time.time())
    assert delivered.json["event"] == "message.status"
    # The SMSC saw exactly one submit for it, to the right number, with the GSM-7 text.
    submits = [s for s in env.sim.submitted if s.destination == "359888123456"]
    assert len(submits) == 1
    assert submits[0].short_message == b"Hello from smsgate"
    assert submits[0].data_coding == 0
    statuses = [e["data"]["status"] for e in env.sink.events_for(body["id"])]
    assert statuses == ["sent", "delivered"]


async def test_long_cyrillic_goes_out_in_ucs2_parts(env: Env) -> None:
    text = "Здравейте! Вашата поръчка е изпратена и ще пристигне утре. " * 3
    r = await env.send(to="+359888000111", text=text)
    assert r.status_code == 202
    body = r.json()
    assert body["encoding"] == "ucs2"
    assert body["parts"] == 3
    await env.sink.wait_status(body["id"], "delivered")
    submits = [s for s in env.sim.submitted if s.destination == "359888000111"]
    assert len(submits) == 3
    pieces = {}
    for s in submits:
        assert s.data_coding == 8
        assert s.esm_class & 0x40
        udh, payload = split_udh(s.short_message)
        assert udh.concat is not None
        assert udh.concat.total == 3
        pieces[udh.concat.seq] = payload.decode("utf-16-be")
    assert "".join(pieces[i] for i in (1, 2, 3)) == text
    parts = await env.gateway.store.get_parts(body["id"])
    assert [p.status for p in parts] == ["delivered"] * 3
    assert len({p.smsc_id for p in parts}) == 3


@pytest.mark.parametrize(
    ("suffix", "status", "error_code"),
    [
        ("9990", "undelivered", "UNDELIV"),
        ("9991", "expired", "EXPIRED"),
        ("9992", "failed", "ESME_RSUBMITFAIL"),
    ],
)
async def test_magic_destinations_reach_their_final_status(
    env: Env, suffix: str, status: str, error_code: str
) -> None:
    r = await env.send(to=f"+35988812{suffix}", text="magic")
    assert r.status_code == 202
    message_id = r.json()["id"]
    await env.sink.wait_status(message_id, status)
    got = (await env.client.get(f"/api/v1/messages/{message_id}", headers=env.auth())).json()
    assert got["status"] == status
    assert got["error"]["code"] == error_code


async def test_no_receipt_ever_expires_at_the_end_of_validity(env: Env) -> None:
    r = await env.send(to="+359888129993", text="silent", validity_s=5)
    message_id = r.json()["id"]
    await env.sink.wait_status(message_id, "sent")
    hook = await env.sink.wait_status(message_id, "expired", timeout=20)
    assert hook.json["data"]["error"]["code"] == "no_receipt"


@pytest.mark.parametrize("receipt_ids", ["dec", "HEX"])
async def test_receipts_match_whatever_the_smsc_id_form(tmp_path: Path, receipt_ids: str) -> None:
    # The simulator answers submit_sm with hex ids and writes receipt ids in another form.
    async with running_env(tmp_path, id_format="hex", receipt_id_format=receipt_ids) as e:
        ids = [(await e.send(to=f"+35988830000{i}", text="x")).json()["id"] for i in range(5)]
        for message_id in ids:
            await e.sink.wait_status(message_id, "delivered")
        assert e.gateway.delivery.unmatched_receipts == 0


async def test_idempotency_key_gives_one_message(env: Env) -> None:
    headers = {**env.auth(), "Idempotency-Key": "pay-42"}
    body = {"to": "+359888555666", "from": "ACME", "text": "once", "callback_url": env.sink.url}
    first = await env.client.post("/api/v1/messages", json=body, headers=headers)
    second = await env.client.post("/api/v1/messages", json=body, headers=headers)
    assert first.status_code == 202
    assert second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    other = await env.client.post(
        "/api/v1/messages", json={**body, "text": "different"}, headers=headers
    )
    assert other.status_code == 409
    assert other.json()["error"]["field"] == "Idempotency-Key"
    await env.sink.wait_status(first.json()["id"], "delivered")
    listed = await env.client.get(
        "/api/v1/messages", params={"to": "+359888555666"}, headers=env.auth()
    )
    assert len(listed.json()["data"]) == 1
    assert sum(1 for s in env.sim.submitted if s.destination == "359888555666") == 1


async def test_authentication(env: Env) -> None:
    missing = await env.client.post("/api/v1/messages", json={"to": "+359888123456", "text": "x"})
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "unauthorized"
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = await env.client.get("/api/v1/messages", headers=env.auth("sk_not_a_key"))
    assert wrong.status_code == 401


async def test_accounts_are_isolated(env: Env) -> None:
    r = await env.send(to="+359888123456", text="mine")
    message_id = r.json()["id"]
    other = env.auth(env.key_b)
    assert (
        await env.client.get(f"/api/v1/messages/{message_id}", headers=other)
    ).status_code == 404
    cancel = await env.client.post(f"/api/v1/messages/{message_id}/cancel", headers=other)
    assert cancel.status_code == 404
    listed = (await env.client.get("/api/v1/messages", headers=other)).json()
    assert listed["data"] == []
    hook = await env.client.post("/api/v1/webhooks", json={"url": env.sink.url}, headers=env.auth())
    hook_id = hook.json()["id"]
    assert (await env.client.get(f"/api/v1/webhooks/{hook_id}", headers=other)).status_code == 404
    assert (
        await env.client.delete(f"/api/v1/webhooks/{hook_id}", headers=other)
    ).status_code == 404
    assert (await env.client.get("/api/v1/webhooks", headers=other)).json() == []


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"to": "12", "text": "x"}, "to", 422),
        ({"to": "not a number", "text": "x"}, "to", 422),
        ({"to": "+359888123456", "text": ""}, "text", 422),
        ({"to": "+359888123456"}, "text", 422),
        ({"text": "x"}, "to", 422),
        ({"to": "+359888123456", "text": "x", "from": "TOOLONGSENDERID"}, "from", 422),
        ({"to": "+359888123456", "text": "x", "from": "12345678901234567"}, "from", 422),
        ({"to": "+359888123456", "text": "x", "from": "A$B"}, "from", 422),
        ({"to": "+359888123456", "text": "x", "category": "spam"}, "category", 422),
        ({"to": "+359888123456", "text": "x", "encoding": "latin9"}, "encoding", 422),
        ({"to": "+359888123456", "text": "x", "validity_s": 1}, "validity_s", 422),
        ({"to": "+359888123456", "text": "x", "callback_url": "ftp://x"}, "callback_url", 422),
        ({"to": "+359888123456", "text": "Привет", "encoding": "gsm7"}, "text", 422),
        ({"to": "+359888123456", "text": "x" * 1531}, "text", 422),
        ({"to": "+359888123456", "text": "x", "unknown": 1}, "unknown", 422),
        ({"to": 359888123456, "text": "x"}, "to", 422),
    ],
)
async def test_bad_input_names_the_field(
    env: Env, body: dict[str, object], field: str, status: int
) -> None:
    r = await env.client.post("/api/v1/messages", json=body, headers=env.auth())
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["field"] == field
    assert error["message"]


async def test_too_many_parts_is_refused_not_truncated(env: Env) -> None:
    # The account allows 10 parts: 10 x 153 septets fit, one more character does not.
    fits = await env.send(to="+359888123456", text="y" * 1530)
    assert fits.status_code == 202
    assert fits.json()["parts"] == 10
    refused = await env.send(to="+359888123456", text="y" * 1531)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "too_many_parts"


async def test_malformed_json_and_wrong_types(env: Env) -> None:
    r = await env.client.post(
        "/api/v1/messages",
        content=b'{"to": "+359',
        headers={**env.auth(), "Content-Type": "application/json"},
    )
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "body"
    r = await env.client.post("/api/v1/messages", json=[1, 2], headers=env.auth())
    assert r.status_code == 422
    r = await env.client.get("/api/v1/messages", params={"limit": 0}, headers=env.auth())
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "limit"
    r = await env.client.get("/api/v1/messages/does-not-exist", headers=env.auth())
    assert r.status_code == 404


async def test_national_number_uses_the_account_country(env: Env) -> None:
    r = await env.send(to="0888 123 457", text="national")
    assert r.status_code == 202
    assert r.json()["to"] == "+359888123457"


async def test_preview(env: Env) -> None:
    r = await env.client.post(
        "/api/v1/messages/preview", json={"text": "Hello €"}, headers=env.auth()
    )
    assert r.json() | {"price": None} == {
        "encoding": "gsm7",
        "parts": 1,
        "chars": 7,
        "units": 8,
        "per_part": 160,
        "non_gsm_chars": [],
        "price": None,
    }
    r = await env.client.post(
        "/api/v1/messages/preview", json={"text": "Hello 😀"}, headers=env.auth()
    )
    assert r.json()["encoding"] == "ucs2"
    assert r.json()["non_gsm_chars"] == ["😀"]
    assert r.json()["units"] == 8


async def test_scheduled_message_can_be_canceled(env: Env) -> None:
    later = datetime.now(UTC) + timedelta(days=30)
    r = await env.send(to="+359888123456", text="later", send_at=later.isoformat())
    assert r.json()["status"] == "scheduled"
    message_id = r.json()["id"]
    canceled = await env.client.post(f"/api/v1/messages/{message_id}/cancel", headers=env.auth())
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "canceled"
    again = await env.client.post(f"/api/v1/messages/{message_id}/cancel", headers=env.auth())
    assert again.status_code == 409
    await env.sink.wait_status(message_id, "canceled")
    events = (
        await env.client.get(f"/api/v1/messages/{message_id}/events", headers=env.auth())
    ).json()
    assert [e["status"] for e in events] == ["scheduled", "canceled"]


async def test_list_filters_and_cursor_paging(env: Env) -> None:
    ids = []
    for i in range(5):
        r = await env.send(to=f"+35988810000{i}", text=f"n{i}")
        ids.append(r.json()["id"])
    page1 = (
        await env.client.get("/api/v1/messages", params={"limit": 2}, headers=env.auth())
    ).json()
    assert [m["id"] for m in page1["data"]] == ids[::-1][:2]
    page2 = (
        await env.client.get(
            "/api/v1/messages",
            params={"limit": 2, "cursor": page1["next_cursor"]},
            headers=env.auth(),
        )
    ).json()
    assert [m["id"] for m in page2["data"]] == ids[::-1][2:4]
    one = (
        await env.client.get("/api/v1/messages", params={"to": "+359888100003"}, headers=env.auth())
    ).json()
    assert [m["id"] for m in one["data"]] == [ids[3]]
    bad = await env.client.get("/api/v1/messages", params={"status": "nope"}, headers=env.auth())
    assert bad.status_code == 422


async def test_webhook_subscription_gets_signed_events(env: Env) -> None:
    created = await env.client.post(
        "/api/v1/webhooks",
        json={"url": env.sink.url + "/hook", "events": ["message.status"]},
        headers=env.auth(),
    )
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("whsec_")
    listed = (await env.client.get("/api/v1/webhooks", headers=env.auth())).json()
    assert "secret" not in listed[0] or listed[0]["secret"] is None
    r = await env.client.post(
        "/api/v1/messages",
        json={"to": "+359888777888", "from": "ACME", "text": "hooked"},
        headers=env.auth(),
    )
    message_id = r.json()["id"]
    hook = await env.sink.wait_status(message_id, "delivered")
    assert hook.path == "/hook"
    assert verify(secret, hook.headers["smsgate-signature"], hook.body, now=time.time())
    deliveries = (
        await env.client.get(
            f"/api/v1/webhooks/{created.json()['id']}/deliveries", headers=env.auth()
        )
    ).json()
    assert {d["status"] for d in deliveries} <= {"delivered", "pending"}
    assert deliveries


async def test_batch_of_recipients_in_one_call(env: Env) -> None:
    r = await env.client.post(
        "/api/v1/batches",
        json={
            "from": "ACME",
            "text": "Hi {name}, your code is {code}",
            "recipients": [
                {"to": "+359888200001", "fields": {"name": "Ana", "code": "1"}},
                {"to": "+359888200002", "fields": {"name": "Bo", "code": "2"}},
            ],
            "callback_url": env.sink.url,
        },
        headers=env.auth(),
    )
    assert r.status_code == 202, r.text
    batch = r.json()
    assert batch["total"] == 2
    listed = (
        await env.client.get("/api/v1/messages", params={"batch": batch["id"]}, headers=env.auth())
    ).json()["data"]
    assert sorted(m["text"] for m in listed) == ["Hi Ana, your code is 1", "Hi Bo, your code is 2"]
    for m in listed:
        await env.sink.wait_status(m["id"], "delivered")
    counts = (await env.client.get(f"/api/v1/batches/{batch['id']}", headers=env.auth())).json()
    assert counts["counts"] == {"delivered": 2}
    bad = await env.client.post(
        "/api/v1/batches",
        json={"text": "x", "recipients": [{"to": "+359888200001"}, {"to": "nope"}]},
        headers=env.auth(),
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "messages[1].to"


async def test_health_and_docs(env: Env) -> None:
    assert (await env.client.get("/healthz")).json() == {"status": "ok"}
    ready = await env.client.get("/readyz")
    assert ready.status_code == 200
    spec = (await env.client.get("/openapi.json")).json()
    assert "/api/v1/messages" in spec["paths"]
    assert (await env.client.get("/docs")).status_code == 200


async def test_bodies_over_the_limit_are_refused(env: Env) -> None:
    limit = env.gateway.settings.max_body_bytes
    big = {"to": "+359888123456", "text": "x", "reference": "r" * (limit + 10)}
    for path in ("/api/v1/messages", "/api/v1/batches"):
        r = await env.client.post(path, json=big, headers=env.auth())
        assert r.status_code == 413, path
        assert r.json()["error"]["code"] == "body_too_large"

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"to": "+359888123456", "text": "'
        for _ in range(limit // 65536 + 2):
            yield b"y" * 65536
        yield b'"}'

    json_type = {**env.auth(), "Content-Type": "application/json"}  # else 415 (issue 10)
    streamed = await env.client.post("/api/v1/messages", content=chunks(), headers=json_type)
    assert streamed.status_code == 413
    assert env.sim.submitted == []


async def test_a_batch_of_ten_thousand_recipients_is_one_call(env: Env) -> None:
    recipients = [{"to": f"+3598882{i:05d}", "fields": {"n": str(i)}} for i in range(10_000)]
    r = await env.client.post(
        "/api/v1/batches",
        json={"from": "ACME", "text": "Notice {n}", "recipients": recipients, "send_at": _later()},
        headers=env.auth(),
        timeout=120,
    )
    assert r.status_code == 202, r.text
    batch = r.json()
    assert batch["total"] == 10_000
    assert batch["counts"] == {"scheduled": 10_000}
    counted = (await env.client.get(f"/api/v1/batches/{batch['id']}", headers=env.auth())).json()
    assert counted["counts"] == {"scheduled": 10_000}


def _later() -> str:
    return (datetime.now(UTC) + timedelta(days=1)).isoformat()

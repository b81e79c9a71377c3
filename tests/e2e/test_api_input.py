"""Loose input refused with a reason (DESIGN.md §3, §5): send_at in the past, numbers that
are not plain numbers, numeric senders kept as given, strict JSON types and content types.
Both the fast path (POST /api/v1/messages) and the framework routes are checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from tests.e2e.conftest import Env


def _error(r: Any) -> dict[str, Any]:
    error: dict[str, Any] = r.json()["error"]
    return error


# ---- send_at -------------------------------------------------------------------------------


def _ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


@pytest.mark.parametrize(
    "send_at",
    ["1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00", "a week ago"],
)
async def test_send_at_in_the_past_is_422(env: Env, send_at: str) -> None:
    if send_at == "a week ago":
        send_at = _ago(days=7)
    r = await env.send(to="+359888123456", text="late", send_at=send_at)
    assert r.status_code == 422, r.text
    assert _error(r)["field"] == "send_at"
    assert "in the past" in _error(r)["message"]
    batch = await env.client.post(
        "/api/v1/batches",
        json={"recipients": [{"to": "+359888123456"}], "text": "late", "send_at": send_at},
        headers=env.auth(),
    )
    assert batch.status_code == 422, batch.text
    assert "in the past" in _error(batch)["message"]
    listed = await env.client.get("/api/v1/messages", headers=env.auth())
    assert listed.json()["data"] == []


async def test_send_at_within_the_clock_skew_is_sent_at_once(env: Env) -> None:
    r = await env.send(to="+359888123456", text="now", send_at=_ago(seconds=60))
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued"
    assert r.json()["scheduled_at"] is None


# ---- numbers and senders -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("to", "reason"),
    [
        ("+359888123456;ext=12", "extension"),
        ("tel:+359888123456", "tel:"),
        ("++359888123456", "'+'"),
        ("+٣٥٩٨٨٨١٢٣٤٥٦", "ASCII"),  # Arabic-Indic digits
        ("+３５９８８８１２３４５６", "ASCII"),  # full-width digits
        ("+359888ABC456", "letters"),
    ],
)
async def test_a_number_that_is_not_plain_is_422_naming_the_field(
    env: Env, to: str, reason: str
) -> None:
    r = await env.send(to=to, text="hi")
    assert r.status_code == 422, r.text
    assert _error(r)["field"] == "to"
    assert reason in _error(r)["message"]
    batch = await env.client.post(
        "/api/v1/batches", json={"recipients": [{"to": to}], "text": "hi"}, headers=env.auth()
    )
    assert batch.status_code == 422, batch.text
    assert reason in _error(batch)["message"]
    listed = await env.client.get("/api/v1/messages", params={"to": to}, headers=env.auth())
    assert listed.status_code == 422
    assert _error(listed)["field"] == "to"


async def test_numeric_sender_without_plus_is_kept_as_given(env: Env) -> None:
    r = await env.send(to="+359888123456", text="hi", **{"from": "123456789"})
    assert r.status_code == 202, r.text
    assert r.json()["from"] == "123456789"
    stored = await env.gateway.store.get_message(r.json()["id"], env.account_a)
    assert stored is not None
    assert (stored.from_addr, stored.from_ton, stored.from_npi) == ("123456789", 0, 1)
    await env.sink.wait_status(r.json()["id"], "delivered")
    submit = next(s for s in env.sim.submitted if s.destination == "359888123456")
    assert submit.source == "123456789"
    plus = await env.send(to="+359888123457", text="hi", **{"from": "+123456789"})
    assert plus.json()["from"] == "+123456789"


# ---- strict types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("validity_s", True),
        ("validity_s", "600"),
        ("validity_s", 600.5),
        ("transliterate", 1),
        ("transliterate", "true"),
        ("text", 5),
        ("reference", 7),
    ],
)
async def test_json_types_are_strict(env: Env, field: str, value: Any) -> None:
    r = await env.send(**{"to": "+359888123456", "text": "hi", field: value})  # the fast path
    assert r.status_code == 422, r.text
    assert _error(r)["field"] == field
    if field != "transliterate":  # not a batch field
        batch = await env.client.post(
            "/api/v1/batches",
            json={"recipients": [{"to": "+359888123456"}], "text": "hi", field: value},
            headers=env.auth(),
        )
        assert batch.status_code == 422, batch.text
        assert _error(batch)["field"] == field


async def test_strict_types_on_other_routes(env: Env) -> None:
    preview = await env.client.post(
        "/api/v1/messages/preview", json={"text": "hi", "transliterate": 1}, headers=env.auth()
    )
    assert preview.status_code == 422
    assert _error(preview)["field"] == "transliterate"
    fields = await env.client.post(
        "/api/v1/batches",
        json={"recipients": [{"to": "+359888123456", "fields": {"n": 1}}], "text": "{n}"},
        headers=env.auth(),
    )
    assert fields.status_code == 422
    assert _error(fields)["field"] == "recipients[0].fields.n"


# ---- content type ---------------------------------------------------------------------------

BODY = orjson.dumps({"to": "+359888123456", "text": "hi"})


@pytest.mark.parametrize("path", ["/api/v1/messages", "/api/v1/batches", "/api/v1/webhooks"])
@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "json"]
)
async def test_a_body_that_is_not_labelled_json_is_415(
    env: Env, path: str, content_type: str | None
) -> None:
    headers = env.auth()
    if content_type is not None:
        headers["Content-Type"] = content_type
    r = await env.client.post(path, content=BODY, headers=headers)
    assert r.status_code == 415, r.text
    assert _error(r) == {
        "code": "unsupported_media_type",
        "message": "send the body as JSON, with 'Content-Type: application/json'",
        "field": "Content-Type",
    }
    listed = await env.client.get("/api/v1/messages", headers=env.auth())
    assert listed.json()["data"] == []


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8"],
)
async def test_json_with_or_without_charset_is_accepted(env: Env, content_type: str) -> None:
    headers = {**env.auth(), "Content-Type": content_type}
    r = await env.client.post("/api/v1/messages", content=BODY, headers=headers)
    assert r.status_code == 202, r.text
    # A call without a body needs no content type.
    cancel = await env.client.post(f"/api/v1/messages/{r.json()['id']}/cancel", headers=env.auth())
    assert cancel.status_code in (200, 409)

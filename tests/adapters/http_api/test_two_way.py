"""/api/v1/numbers, /keywords, /optouts and /conversations: 404s, paging and isolation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smsgate.services.ports import InboundEvent

from .conftest import NOT_FOUND_IDS, Api, Tenant, assert_error

NUMBER = "+359888999000"
PEER = "+359877111222"


async def _assign(api: Api, who: Tenant, number: str = NUMBER, **body: object) -> dict[str, object]:
    made = await api.client.post(
        "/api/v1/numbers",
        json={"number": number, "account_id": who.id, **body},
        headers=api.admin.auth,
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


async def _inbound(api: Api, text: str, source: str = PEER, destination: str = NUMBER) -> None:
    await api.gateway.events.on_inbound(
        InboundEvent(
            connector="sim",
            source=source.lstrip("+"),
            source_ton=1,
            destination=destination.lstrip("+"),
            dest_ton=1,
            text=text,
            data_coding=0,
            received_at=datetime.now(UTC),
        )
    )


async def test_numbers_are_assigned_by_admins_and_seen_by_their_account(api: Api) -> None:
    number = await _assign(api, api.a, description="support line")
    mine = await api.client.get("/api/v1/numbers", headers=api.a.auth)
    assert [n["id"] for n in mine.json()] == [number["id"]]
    assert (await api.client.get("/api/v1/numbers", headers=api.b.auth)).json() == []
    every = await api.client.get("/api/v1/numbers", headers=api.admin.auth)
    assert [n["number"] for n in every.json()] == [NUMBER]
    got = await api.client.get(f"/api/v1/numbers/{number['id']}", headers=api.a.auth)
    assert got.json()["description"] == "support line"
    theirs = await api.client.get(f"/api/v1/numbers/{number['id']}", headers=api.b.auth)
    assert_error(theirs, 404, "not_found", "id")
    unknown_account = await api.client.post(
        "/api/v1/numbers",
        json={"number": "+359888999001", "account_id": "acc_x"},
        headers=api.admin.auth,
    )
    assert_error(unknown_account, 404, "not_found", "account_id")
    shared_long = await api.client.post(
        "/api/v1/numbers",
        json={"number": "+359888999002", "account_id": api.a.id, "shared": True},
        headers=api.admin.auth,
    )
    assert_error(shared_long, 422, "invalid_request", "shared")
    bad = await api.client.post(
        "/api/v1/numbers", json={"number": "abcdef", "account_id": api.a.id}, headers=api.admin.auth
    )
    assert_error(bad, 422, "invalid_number", "number")
    gone = await api.client.delete(f"/api/v1/numbers/{number['id']}", headers=api.admin.auth)
    assert gone.status_code == 204
    again = await api.client.delete(f"/api/v1/numbers/{number['id']}", headers=api.admin.auth)
    assert_error(again, 404, "not_found", "id")


@pytest.mark.parametrize("some_id", NOT_FOUND_IDS)
async def test_unknown_and_malformed_ids_are_404(api: Api, some_id: str) -> None:
    for who, method, path in [
        (api.a, "GET", f"/api/v1/numbers/{some_id}"),
        (api.admin, "DELETE", f"/api/v1/numbers/{some_id}"),
        (api.a, "GET", f"/api/v1/keywords/{some_id}"),
        (api.a, "DELETE", f"/api/v1/keywords/{some_id}"),
        (api.a, "GET", f"/api/v1/optouts/{some_id}"),
        (api.a, "DELETE", f"/api/v1/optouts/{some_id}"),
        (api.a, "GET", f"/api/v1/conversations/{some_id}"),
    ]:
        resp = await api.client.request(method, path, headers=who.auth)
        assert resp.status_code in (404, 422), (path, resp.text)  # not a number: 422 names it
        assert_error(resp, resp.status_code, resp.json()["error"]["code"])
        assert resp.json()["error"]["code"] in {"not_found", "invalid_number"}


async def test_keyword_rules_live_on_the_accounts_own_numbers(api: Api) -> None:
    await _assign(api, api.a)
    theirs = await api.client.post(
        "/api/v1/keywords",
        json={"number": NUMBER, "keyword": "INFO", "action": "reply", "reply_text": "hi"},
        headers=api.b.auth,
    )
    assert_error(theirs, 404, "not_found", "number")
    made = await api.client.post(
        "/api/v1/keywords",
        json={"number": NUMBER, "keyword": "Info", "action": "reply", "reply_text": "hi {from}"},
        headers=api.a.auth,
    )
    assert made.status_code == 201
    rule = made.json()
    no_text = await api.client.post(
        "/api/v1/keywords",
        json={"number": NUMBER, "keyword": "X", "action": "reply"},
        headers=api.a.auth,
    )
    assert_error(no_text, 422, "invalid_request", "reply_text")
    bad_action = await api.client.post(
        "/api/v1/keywords",
        json={"number": NUMBER, "keyword": "X", "action": "explode"},
        headers=api.a.auth,
    )
    assert_error(bad_action, 422, "invalid_request", "action")
    listed = await api.client.get(f"/api/v1/keywords?number={NUMBER}", headers=api.a.auth)
    assert [r["id"] for r in listed.json()] == [rule["id"]]
    assert (await api.client.get("/api/v1/keywords", headers=api.b.auth)).json() == []
    for method in ("GET", "DELETE"):
        resp = await api.client.request(
            method, f"/api/v1/keywords/{rule['id']}", headers=api.b.auth
        )
        assert_error(resp, 404, "not_found", "id")
    assert (
        await api.client.get(f"/api/v1/keywords/{rule['id']}", headers=api.a.auth)
    ).status_code == 200
    assert (
        await api.client.delete(f"/api/v1/keywords/{rule['id']}", headers=api.a.auth)
    ).status_code == 204
    assert_error(
        await api.client.get(f"/api/v1/keywords/{rule['id']}", headers=api.a.auth),
        404,
        "not_found",
        "id",
    )


async def test_optouts_page_and_stay_per_account(api: Api) -> None:
    numbers = ["+359888000003", "+359888000001", "+359888000002"]
    for n in numbers:
        made = await api.client.post("/api/v1/optouts", json={"number": n}, headers=api.a.auth)
        assert made.status_code == 201
    again = await api.client.post(
        "/api/v1/optouts", json={"number": numbers[0]}, headers=api.a.auth
    )
    assert (again.status_code, again.json()["number"]) == (200, numbers[0])
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await api.client.get("/api/v1/optouts", params=params, headers=api.a.auth)).json()
        seen += [o["number"] for o in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(numbers)
    assert len(seen) == 3
    assert (await api.client.get("/api/v1/optouts", headers=api.b.auth)).json()["data"] == []
    assert_error(
        await api.client.get(f"/api/v1/optouts/{numbers[0]}", headers=api.b.auth),
        404,
        "not_found",
        "number",
    )
    assert_error(
        await api.client.delete(f"/api/v1/optouts/{numbers[0]}", headers=api.b.auth),
        404,
        "not_found",
        "number",
    )
    got = await api.client.get(f"/api/v1/optouts/{numbers[0]}", headers=api.a.auth)
    assert (got.status_code, got.json()["source"]) == (200, "api")
    assert (
        await api.client.delete(f"/api/v1/optouts/{numbers[0]}", headers=api.a.auth)
    ).status_code == 204
    assert_error(
        await api.client.delete(f"/api/v1/optouts/{numbers[0]}", headers=api.a.auth),
        404,
        "not_found",
        "number",
    )
    # Marketing to a number on the list is accepted as rejected (opted_out); B's is sent.
    body = {"to": numbers[1], "category": "marketing"}
    refused = (await api.send(api.a, **body)).json()
    assert (refused["status"], refused["error"]["code"]) == ("rejected", "opted_out")
    assert (await api.send(api.b, **body)).json()["status"] != "rejected"


async def test_conversations_from_inbound_messages(api: Api) -> None:
    await _assign(api, api.a)
    await _inbound(api, "hello, is anyone there?")
    await _inbound(api, "hi from someone else", source="+359877333444")
    listed = await api.client.get("/api/v1/conversations?limit=1", headers=api.a.auth)
    assert listed.status_code == 200
    first = listed.json()
    assert len(first["data"]) == 1
    assert first["next_cursor"] is not None
    rest = await api.client.get(
        "/api/v1/conversations",
        params={"limit": 1, "cursor": first["next_cursor"]},
        headers=api.a.auth,
    )
    peers = {first["data"][0]["peer"], rest.json()["data"][0]["peer"]}
    assert peers == {PEER, "+359877333444"}
    assert (await api.client.get("/api/v1/conversations", headers=api.b.auth)).json()["data"] == []
    thread = await api.client.get(f"/api/v1/conversations/{PEER}", headers=api.a.auth)
    assert thread.status_code == 200
    assert [m["text"] for m in thread.json()["messages"]] == ["hello, is anyone there?"]
    assert_error(
        await api.client.get(f"/api/v1/conversations/{PEER}", headers=api.b.auth),
        404,
        "not_found",
        "peer",
    )
    assert_error(
        await api.client.post(
            f"/api/v1/conversations/{PEER}", json={"text": "x"}, headers=api.b.auth
        ),
        404,
        "not_found",
        "peer",
    )
    reply = await api.client.post(
        f"/api/v1/conversations/{PEER}", json={"text": "yes, how can we help?"}, headers=api.a.auth
    )
    assert reply.status_code == 202
    assert (reply.json()["to"], reply.json()["from"]) == (PEER, NUMBER)
    empty = await api.client.post(
        f"/api/v1/conversations/{PEER}", json={"text": ""}, headers=api.a.auth
    )
    assert_error(empty, 422, "invalid_request", "text")


async def test_inbound_to_no_number_is_listed_for_admins(api: Api) -> None:
    await _inbound(api, "anyone?", destination="+359888999777")
    await _inbound(api, "hello?", destination="+359888999778")
    first = await api.client.get("/api/v1/numbers/unrouted?limit=1", headers=api.admin.auth)
    assert first.status_code == 200
    [newest] = first.json()
    assert (newest["text"], newest["reason"]) == ("hello?", "no_number")
    rest = await api.client.get(
        "/api/v1/numbers/unrouted", params={"cursor": newest["id"]}, headers=api.admin.auth
    )
    assert [u["text"] for u in rest.json()] == ["anyone?"]
    bad = await api.client.get("/api/v1/numbers/unrouted?limit=0", headers=api.admin.auth)
    assert_error(bad, 422, "invalid_request", "limit")

"""Two-way SMS end to end: inbound through the SMSC simulator (real SMPP), numbers and keyword
rules over the REST API, replies out through the simulator, webhooks to a real sink.

`inject_mo` returns once the gateway answered every deliver_sm, and the gateway answers only
after the commit (and the replies' commits): no waiting needed to read the results.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from smsgate.adapters.store import schema
from smsgate.domain.keywords import LANGUAGES, START_WORDS, STOP_WORDS
from smsgate.services.events import verify
from smsgate.smpp.constants import CommandStatus
from tests.adapters.smpp_server.helpers import RawClient
from tests.e2e.conftest import Env, add_smpp_login, running_env
from tests.e2e.test_cli import SMSGATE, _start, _stop, _wait_line

NUMBER_A = "+35924001234"
NUMBER_B = "+35924005678"
PEER = "+359888123456"
LONG_GSM = (
    "Hello! I would like to confirm my appointment on Thursday at 10:30 with Dr. Petrova. "
    "Please also tell me whether I need to bring my insurance card and the old test results "
    "from the lab (the ones from March). Thanks a lot, see you then - Maria"
)
LONG_UCS2 = (
    "Здравейте! Потвърждавам часа си в четвъртък от 10:30 при д-р Петрова. Трябва ли да нося "
    "здравната си карта и старите изследвания от лабораторията? Благодаря, Мария 😊"
)


@dataclass
class TwoWay:
    env: Env
    admin_key: str

    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}

    async def assign(self, number: str, account_id: str, *, shared: bool = False) -> Any:
        r = await self.env.client.post(
            "/api/v1/numbers",
            json={"number": number, "account_id": account_id, "shared": shared},
            headers=self.admin(),
        )
        assert r.status_code == 201, r.text
        return r.json()

    async def rule(self, key: str | None = None, **body: Any) -> Any:
        r = await self.env.client.post("/api/v1/keywords", json=body, headers=self.env.auth(key))
        assert r.status_code == 201, r.text
        return r.json()

    async def mo(self, text: str, *, to: str = NUMBER_A, frm: str = PEER, **options: Any) -> int:
        return await self.env.sim.inject_mo(frm.lstrip("+"), to.lstrip("+"), text, **options)

    async def inbound(self, key: str | None = None) -> list[dict[str, Any]]:
        r = await self.env.client.get(
            "/api/v1/messages", params={"direction": "inbound"}, headers=self.env.auth(key)
        )
        data: list[dict[str, Any]] = r.json()["data"]
        return data

    async def outbound(self, key: str | None = None) -> list[dict[str, Any]]:
        r = await self.env.client.get(
            "/api/v1/messages", params={"direction": "outbound"}, headers=self.env.auth(key)
        )
        data: list[dict[str, Any]] = r.json()["data"]
        return data

    async def marketing(self, to: str = PEER, category: str = "marketing") -> dict[str, Any]:
        r = await self.env.send(to=to, text="Big sale today!", category=category)
        assert r.status_code == 202, r.text
        body: dict[str, Any] = r.json()
        return body


@pytest.fixture
async def tw(tmp_path: object) -> AsyncIterator[TwoWay]:
    async with running_env(tmp_path) as env:
        store = env.gateway.store
        admin = await store.create_account(name="root", role="admin", now=time.time())
        _, key = await store.create_api_key(admin.id, name="t", now=time.time())
        tw = TwoWay(env, key)
        await tw.assign(NUMBER_A, env.account_a)
        yield tw


# ---- inbound, reassembly -------------------------------------------------------------------


@pytest.mark.parametrize("text", [LONG_GSM, LONG_UCS2], ids=["gsm7", "ucs2"])
@pytest.mark.parametrize("concat", ["udh8", "udh16", "sar"])
async def test_concatenated_shuffled_duplicated_is_one_message(
    tw: TwoWay, text: str, concat: str
) -> None:
    sent = await tw.mo(text, concat=concat, shuffle=True, duplicate=True)
    assert sent >= 3  # at least two parts and the duplicate
    [msg] = await tw.inbound()
    assert msg["text"] == text
    assert msg["status"] == "received"
    assert msg["from"] == PEER
    assert msg["to"] == NUMBER_A
    assert msg["parts"] == sent - 1
    assert msg["encoding"] == ("gsm7" if text is LONG_GSM else "ucs2")
    assert msg["error"] is None
    assert await tw.env.gateway.two_way_store.count_parts() == sent - 1  # kept for duplicates


@pytest.mark.parametrize("text", ["Yes, 10:30 works", "Да, в 10:30 е добре ✓"])
async def test_single_message(tw: TwoWay, text: str) -> None:
    assert await tw.mo(text) == 1
    [msg] = await tw.inbound()
    assert (msg["text"], msg["parts"], msg["direction"]) == (text, 1, "inbound")


async def test_long_single_pdu_in_message_payload(tw: TwoWay) -> None:
    assert await tw.mo(LONG_GSM, concat=None) == 1
    assert [m["text"] for m in await tw.inbound()] == [LONG_GSM]


# ---- routing -------------------------------------------------------------------------------


async def test_routed_by_number_and_unowned_numbers_are_kept_unrouted(tw: TwoWay) -> None:
    await tw.assign(NUMBER_B, tw.env.account_b)
    await tw.mo("for a", to=NUMBER_A)
    await tw.mo("for b", to=NUMBER_B)
    await tw.mo("for nobody", to="+35924009999")
    assert [m["text"] for m in await tw.inbound()] == ["for a"]
    assert [m["text"] for m in await tw.inbound(tw.env.key_b)] == ["for b"]
    r = await tw.env.client.get("/api/v1/numbers/unrouted", headers=tw.admin())
    [entry] = r.json()
    assert (entry["text"], entry["reason"], entry["destination"]) == (
        "for nobody",
        "no_number",
        "+35924009999",
    )
    assert (
        await tw.env.client.get("/api/v1/numbers/unrouted", headers=tw.env.auth())
    ).status_code == 403


async def test_shared_short_code_routes_by_keyword(tw: TwoWay) -> None:
    env = tw.env
    await tw.assign("4444", env.account_a, shared=True)
    await tw.assign("4444", env.account_b, shared=True)
    await tw.rule(number="4444", keyword="PIZZA", action="reply", reply_text="Pizza menu: {text}")
    await tw.rule(env.key_b, number="4444", keyword="Café", action="reply", reply_text="Coffee!")
    taken = await env.client.post(
        "/api/v1/keywords",
        json={"number": "4444", "keyword": "pizza!", "action": "reply", "reply_text": "x"},
        headers=env.auth(env.key_b),
    )
    assert taken.status_code == 409
    await tw.mo("pizza large please", to="4444")
    await tw.mo("CAFE", to="4444")
    await tw.mo("hello?", to="4444")
    assert [m["text"] for m in await tw.inbound()] == ["pizza large please"]
    assert [m["text"] for m in await tw.inbound(env.key_b)] == ["CAFE"]
    replies_a = [m["text"] for m in await tw.outbound()]
    assert replies_a == ["Pizza menu: pizza large please"]
    assert [(m["from"], m["to"]) for m in await tw.outbound(env.key_b)] == [("4444", PEER)]
    unrouted = (await env.client.get("/api/v1/numbers/unrouted", headers=tw.admin())).json()
    assert [(u["text"], u["reason"]) for u in unrouted] == [("hello?", "no_keyword")]
    # "STOP PIZZA" stops account a only; a bare STOP stops every account on the code.
    await tw.mo("stop pizza", to="4444")
    assert (await tw.marketing())["status"] == "rejected"
    b_marketing = await env.send(env.key_b, to=PEER, text="sale", category="marketing")
    assert b_marketing.json()["status"] == "queued"
    await tw.mo("STOP", to="4444", frm="+359888000111")
    for key in (env.key_a, env.key_b):
        r = await env.client.get("/api/v1/optouts/+359888000111", headers=env.auth(key))
        assert r.status_code == 200


# ---- keyword actions -----------------------------------------------------------------------


async def test_reply_action_with_placeholders(tw: TwoWay) -> None:
    await tw.rule(
        number=NUMBER_A,
        keyword="hours",
        action="reply",
        reply_text="Hi {from}, {keyword}: 9-18. You wrote '{text}'.",
    )
    await tw.mo("Hóurs?! today")
    [reply] = await tw.outbound()
    assert reply["text"] == f"Hi {PEER}, HOURS: 9-18. You wrote 'Hóurs?! today'."
    assert (reply["from"], reply["to"], reply["category"]) == (NUMBER_A, PEER, "transactional")
    sim = tw.env.sim
    await sim.wait_until(lambda: any(s.destination == PEER.lstrip("+") for s in sim.submitted))
    submit = next(s for s in sim.submitted if s.destination == PEER.lstrip("+"))
    assert submit.source == NUMBER_A.lstrip("+")


async def test_catch_all_and_forward_action_is_signed(tw: TwoWay) -> None:
    env = tw.env
    url = env.sink.url + "/forwarded"
    await tw.rule(number=NUMBER_A, keyword=None, action="forward", forward_url=url)
    await tw.mo("anything at all")
    got = await env.sink.wait_for(lambda rs: any(r.path == "/forwarded" for r in rs))
    hit = next(r for r in got if r.path == "/forwarded")
    assert hit.json["event"] == "message.inbound"
    assert hit.json["data"]["text"] == "anything at all"
    account = await env.gateway.store.get_account(env.account_a)
    assert account is not None
    assert verify(
        account.signing_secret, hit.headers["smsgate-signature"], hit.body, now=time.time()
    )
    assert not verify("wrong", hit.headers["smsgate-signature"], hit.body, now=time.time())
    assert await tw.outbound() == []  # forwarding sends no SMS


async def test_inbound_webhook_subscription_is_signed(tw: TwoWay) -> None:
    env = tw.env
    r = await env.client.post(
        "/api/v1/webhooks",
        json={"url": env.sink.url + "/hook", "events": ["message.inbound"]},
        headers=env.auth(),
    )
    secret = r.json()["secret"]
    await tw.mo("ping")
    got = await env.sink.wait_for(lambda rs: any(r.path == "/hook" for r in rs))
    hit = next(r for r in got if r.path == "/hook")
    assert verify(secret, hit.headers["smsgate-signature"], hit.body, now=time.time())
    data = json.loads(hit.body)["data"]
    assert (data["text"], data["direction"], data["status"]) == ("ping", "inbound", "received")


async def test_optout_optin_and_help_rules(tw: TwoWay) -> None:
    await tw.rule(number=NUMBER_A, keyword="NOMORE", action="optout", reply_text="Bye {from}")
    await tw.rule(number=NUMBER_A, keyword="BACK", action="optin")
    await tw.rule(number=NUMBER_A, keyword="menu", action="help", reply_text="Text PIZZA")
    await tw.mo("nomore")
    assert (await tw.marketing())["status"] == "rejected"
    await tw.mo("back")
    assert (await tw.marketing())["status"] == "queued"
    await tw.mo("MENU")
    texts = [m["text"] for m in await tw.outbound() if m["category"] == "transactional"]
    assert f"Bye {PEER}" in texts
    assert any(t.startswith("You are subscribed to a again") for t in texts)
    assert "Text PIZZA" in texts


async def test_help_answers_with_the_account_help_text(tw: TwoWay) -> None:
    await tw.mo("HELP")
    assert [m["text"] for m in await tw.outbound()] == [
        "a: reply STOP to unsubscribe, START to subscribe again."
    ]
    store = tw.env.gateway.store
    shop = await store.create_account(
        name="shop", help_text="Shop: call 0700 1234", now=time.time()
    )
    await tw.assign(NUMBER_B, shop.id)
    _, key = await store.create_api_key(shop.id, name="t", now=time.time())
    await tw.mo("info", to=NUMBER_B)
    assert [m["text"] for m in await tw.outbound(key)] == ["Shop: call 0700 1234"]


@pytest.mark.parametrize(
    ("stop", "start"),
    [
        pytest.param(STOP_WORDS[lang][i % len(STOP_WORDS[lang])], START_WORDS[lang][0], id=lang)
        for i, lang in enumerate(LANGUAGES)
    ]
    + [
        pytest.param(w, "START", id=w)
        for w in ("STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "ОТПИСВАНЕ", "TD", "BAJA")
    ],
)
async def test_stop_suppresses_marketing_not_transactional_and_start_restores(
    tw: TwoWay, stop: str, start: str
) -> None:
    await tw.mo(f" {stop.lower()}! ")
    rejected = await tw.marketing()
    assert rejected["status"] == "rejected"
    assert rejected["error"]["code"] == "opted_out"
    assert (await tw.marketing(category="transactional"))["status"] == "queued"
    listed = (await tw.env.client.get("/api/v1/optouts", headers=tw.env.auth())).json()["data"]
    assert [e["number"] for e in listed] == [PEER]
    confirmation = [m for m in await tw.outbound() if m["text"].startswith("You are unsub")]
    assert [(m["from"], m["to"]) for m in confirmation] == [(NUMBER_A, PEER)]
    await tw.mo(start)
    assert (await tw.marketing())["status"] == "queued"
    listed = (await tw.env.client.get("/api/v1/optouts", headers=tw.env.auth())).json()["data"]
    assert listed == []


async def test_rejected_marketing_is_not_sent_and_notifies(tw: TwoWay) -> None:
    env = tw.env
    await tw.mo("STOP")
    rejected = await tw.marketing()
    event = await env.sink.wait_status(rejected["id"], "rejected")
    assert event.json["data"]["error"]["code"] == "opted_out"
    events = (
        await env.client.get(f"/api/v1/messages/{rejected['id']}/events", headers=env.auth())
    ).json()
    assert [(e["status"], e["error_code"]) for e in events] == [("rejected", "opted_out")]
    async with env.gateway.engine.connect() as conn:
        queued = await conn.execute(
            select(schema.outbox).where(schema.outbox.c.message_id == rejected["id"])
        )
        assert queued.all() == []  # never queued
    parts = await env.gateway.store.get_parts(rejected["id"])
    assert [p.status for p in parts] == ["rejected"]
    batch = await env.client.post(
        "/api/v1/batches",
        json={
            "text": "Promo",
            "category": "marketing",
            "recipients": [{"to": PEER}, {"to": "+359888000222"}],
        },
        headers=env.auth(),
    )
    assert batch.json()["counts"] == {"rejected": 1, "queued": 1}


async def test_a_stop_sentence_is_not_an_opt_out(tw: TwoWay) -> None:
    await tw.mo("Please stop by the clinic tomorrow? I will")
    assert (await tw.marketing())["status"] == "queued"


async def test_optouts_api(tw: TwoWay) -> None:
    env = tw.env
    add = await env.client.post(
        "/api/v1/optouts", json={"number": "0888 765 432"}, headers=env.auth()
    )
    assert add.status_code == 201
    assert add.json()["number"] == "+359888765432"
    again = await env.client.post(
        "/api/v1/optouts", json={"number": "+359888765432"}, headers=env.auth()
    )
    assert again.status_code == 200
    assert (await tw.marketing("+359888765432"))["status"] == "rejected"
    other = await env.client.get("/api/v1/optouts/+359888765432", headers=env.auth(env.key_b))
    assert other.status_code == 404
    assert (
        await env.client.delete("/api/v1/optouts/+359888765432", headers=env.auth(env.key_b))
    ).status_code == 404
    assert (
        await env.client.delete("/api/v1/optouts/+359888765432", headers=env.auth())
    ).status_code == 204
    assert (
        await env.client.delete("/api/v1/optouts/+359888765432", headers=env.auth())
    ).status_code == 404
    bad = await env.client.post("/api/v1/optouts", json={"number": "nope"}, headers=env.auth())
    assert bad.status_code == 422


# ---- conversations -------------------------------------------------------------------------


async def test_conversation_thread_unread_and_reply(tw: TwoWay) -> None:
    env = tw.env
    await tw.mo("first")
    await tw.mo("second")
    await tw.mo("other person", frm="+359888000333")
    listed = (await env.client.get("/api/v1/conversations", headers=env.auth())).json()["data"]
    assert [(c["peer"], c["unread"]) for c in listed] == [("+359888000333", 1), (PEER, 2)]
    thread = (await env.client.get(f"/api/v1/conversations/{PEER}", headers=env.auth())).json()
    assert thread["unread"] == 2
    assert [m["text"] for m in thread["messages"]] == ["second", "first"]
    again = (await env.client.get("/api/v1/conversations/0888123456", headers=env.auth())).json()
    assert again["unread"] == 0
    reply = await env.client.post(
        f"/api/v1/conversations/{PEER}", json={"text": "See you!"}, headers=env.auth()
    )
    assert reply.status_code == 202
    assert (reply.json()["from"], reply.json()["to"]) == (NUMBER_A, PEER)
    thread = (await env.client.get(f"/api/v1/conversations/{PEER}", headers=env.auth())).json()
    assert [(m["direction"], m["text"]) for m in thread["messages"]] == [
        ("outbound", "See you!"),
        ("inbound", "second"),
        ("inbound", "first"),
    ]
    assert thread["last_message"]["text"] == "See you!"
    page = (
        await env.client.get(f"/api/v1/conversations/{PEER}?limit=2", headers=env.auth())
    ).json()
    rest = (
        await env.client.get(
            f"/api/v1/conversations/{PEER}?limit=2&cursor={page['next_cursor']}",
            headers=env.auth(),
        )
    ).json()
    assert [m["text"] for m in page["messages"] + rest["messages"]] == [
        "See you!",
        "second",
        "first",
    ]
    # The other account sees none of it.
    assert (await env.client.get("/api/v1/conversations", headers=env.auth(env.key_b))).json()[
        "data"
    ] == []
    for method in ("GET", "POST"):
        r = await env.client.request(
            method,
            f"/api/v1/conversations/{PEER}",
            json={"text": "x"} if method == "POST" else None,
            headers=env.auth(env.key_b),
        )
        assert r.status_code == 404


async def test_sending_from_another_accounts_number_is_403(tw: TwoWay) -> None:
    env = tw.env
    await tw.mo("hello")  # the owner's thread with PEER
    await tw.assign("1234", env.account_a)  # a short code of the owner's too

    async def thread() -> Any:
        r = await env.client.get(f"/api/v1/conversations/{PEER}", headers=env.auth())
        body = r.json()
        return body["messages"], body["last_message"]

    before = await thread()
    spellings = (NUMBER_A, NUMBER_A.lstrip("+"), "1234")
    for sender in spellings:
        r = await env.send(env.key_b, to=PEER, text="I am A", **{"from": sender})
        assert r.status_code == 403, r.text
        assert r.json()["error"] == {
            "code": "sender_not_allowed",
            "message": "this number belongs to another account",
            "field": "from",
        }
    batch = await env.client.post(
        "/api/v1/batches",
        json={"recipients": [{"to": PEER}], "from": NUMBER_A, "text": "I am A"},
        headers=env.auth(env.key_b),
    )
    assert batch.status_code == 403, batch.text
    assert await tw.outbound(env.key_b) == []
    assert await thread() == before  # the owner's thread is untouched
    # The owner sends from it; an unassigned number is anyone's to use.
    assert (await env.send(to=PEER, text="from A", **{"from": NUMBER_A})).status_code == 202
    free = await env.send(env.key_b, to=PEER, text="hi", **{"from": NUMBER_B})
    assert free.status_code == 202, free.text


async def test_submitting_over_smpp_from_another_accounts_number_is_refused(tw: TwoWay) -> None:
    env = tw.env
    await add_smpp_login(env.gateway, env.account_b, "esme_b", "secret1")
    client = await RawClient.connect(env.gateway.smpp_port)
    assert await client.bind(system_id="esme_b", password="secret1") == 0
    for ton, sender in ((1, NUMBER_A.lstrip("+")), (0, NUMBER_A.lstrip("+"))):
        resp = await client.submit(
            b"I am A", source_addr=sender, source_addr_ton=ton, source_addr_npi=1
        )
        assert resp.command_status == CommandStatus.ESME_RINVSRCADR
    free = await client.submit(b"hi", source_addr=NUMBER_B.lstrip("+"), source_addr_ton=1)
    assert free.command_status == 0
    await client.close()
    assert [m["from"] for m in await tw.outbound(env.key_b)] == [NUMBER_B]


# ---- numbers and keywords API --------------------------------------------------------------


async def test_numbers_and_keywords_api_isolation_and_admin(tw: TwoWay) -> None:
    env = tw.env
    ordinary = await env.client.post(
        "/api/v1/numbers",
        json={"number": NUMBER_B, "account_id": env.account_b},
        headers=env.auth(),
    )
    assert ordinary.status_code == 403
    taken = await env.client.post(
        "/api/v1/numbers",
        json={"number": NUMBER_A, "account_id": env.account_b},
        headers=tw.admin(),
    )
    assert taken.status_code == 409
    bad = await env.client.post(
        "/api/v1/numbers", json={"number": "12", "account_id": env.account_b}, headers=tw.admin()
    )
    assert bad.status_code == 422
    mine = (await env.client.get("/api/v1/numbers", headers=env.auth())).json()
    assert [n["number"] for n in mine] == [NUMBER_A]
    assert (await env.client.get("/api/v1/numbers", headers=env.auth(env.key_b))).json() == []
    number_id = mine[0]["id"]
    assert (
        await env.client.get(f"/api/v1/numbers/{number_id}", headers=env.auth(env.key_b))
    ).status_code == 404
    rule = await tw.rule(number=NUMBER_A, keyword="Hours", action="reply", reply_text="9-18")
    assert rule["keyword"] == "HOURS"
    for key, status in ((env.key_b, 404), (env.key_a, 200)):
        r = await env.client.get(f"/api/v1/keywords/{rule['id']}", headers=env.auth(key))
        assert r.status_code == status
    not_mine = await env.client.post(
        "/api/v1/keywords",
        json={"number": NUMBER_A, "keyword": "x", "action": "reply", "reply_text": "y"},
        headers=env.auth(env.key_b),
    )
    assert not_mine.status_code == 404
    for body, field in (
        ({"keyword": "two words", "action": "reply", "reply_text": "y"}, "keyword"),
        ({"keyword": "x", "action": "reply"}, "reply_text"),
        ({"keyword": "x", "action": "forward", "forward_url": "ftp://x"}, "forward_url"),
        ({"keyword": "stop", "action": "reply", "reply_text": "y"}, "action"),
    ):
        r = await env.client.post(
            "/api/v1/keywords", json={"number": NUMBER_A, **body}, headers=env.auth()
        )
        assert (r.status_code, r.json()["error"]["field"]) == (422, field), r.text
    assert (
        await env.client.delete(f"/api/v1/keywords/{rule['id']}", headers=env.auth(env.key_b))
    ).status_code == 404
    assert (
        await env.client.delete(f"/api/v1/keywords/{rule['id']}", headers=env.auth())
    ).status_code == 204
    assert (await env.client.get("/api/v1/keywords", headers=env.auth())).json() == []
    assert (
        await env.client.delete(f"/api/v1/numbers/{number_id}", headers=env.auth())
    ).status_code == 403
    assert (
        await env.client.delete(f"/api/v1/numbers/{number_id}", headers=tw.admin())
    ).status_code == 204
    await tw.mo("after unassign")
    assert await tw.inbound() == []


# ---- durability: a real process killed right after acknowledging -----------------------------


def _wait_all(proc: subprocess.Popen[str], markers: set[str]) -> list[str]:
    """Read the process's output until every marker was seen (in any order)."""
    assert proc.stdout is not None
    lines: list[str] = []
    missing = set(markers)
    while missing:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError("process ended early:\n" + "".join(lines))
        lines.append(line)
        missing = {m for m in missing if m not in line}
    return lines


def test_inbound_kept_when_the_gateway_is_killed_after_acknowledging(tmp_path: Path) -> None:
    sim = _start(["simulator", "smpp", "--port", "0", "--control-port", "0"])
    gw: subprocess.Popen[str] | None = None
    try:
        lines = _wait_all(sim, {"SMPP simulator listening on", "control API on"})
        sim_port = int(next(x for x in lines if "listening on" in x).rsplit(":", 1)[1])
        control = next(x for x in lines if "control API on" in x).split(" on ", 1)[1].strip()
        config = tmp_path / "gw.toml"
        config.write_text(
            f'database_url = "sqlite:///{tmp_path}/gw.db"\nhttp_port = 0\nsmpp_port = 0\n'
            f'log_level = "INFO"\n[[connectors]]\nname = "smsc"\nport = {sim_port}\n'
            'system_id = "gw"\npassword = "pw"\n[[routes]]\nconnectors = ["smsc"]\n'
        )

        def account(*args: str) -> str:
            out = subprocess.run(
                [*SMSGATE, "accounts", "create", *args, "--config", str(config)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            return out.rsplit(" ", 1)[1].strip()

        admin, shop = account("ops", "--admin"), account("shop")
        gw = _start(["run", "--config", str(config)])
        lines = _wait_all(gw, {"listening on http", "connector smsc is up"})
        url = next(x for x in lines if "listening on http" in x).rsplit(" ", 1)[1].strip()
        shop_id = httpx.get(url + "/api/v1/account", headers=_bearer(shop)).json()["id"]
        assigned = httpx.post(
            url + "/api/v1/numbers",
            json={"number": NUMBER_A, "account_id": shop_id},
            headers=_bearer(admin),
        )
        assert assigned.status_code == 201, assigned.text
        injected = httpx.post(
            control + "/mo",
            json={"from": PEER, "to": NUMBER_A, "text": LONG_UCS2, "shuffle": True},
            timeout=30,
        )
        # Every part, the last one included, was acknowledged (deliver_sm_resp ESME_ROK).
        assert injected.json()["parts"] >= 2
        gw.kill()  # kill -9, right after the acknowledgement
        gw.wait(timeout=30)
        assert gw.stdout is not None
        gw.stdout.close()
        gw = _start(["run", "--config", str(config)])
        url = _wait_line(gw, "listening on http")[-1].rsplit(" ", 1)[1].strip()
        listed = httpx.get(
            url + "/api/v1/messages", params={"direction": "inbound"}, headers=_bearer(shop)
        ).json()["data"]
        assert [(m["text"], m["from"], m["status"]) for m in listed] == [
            (LONG_UCS2, PEER, "received")
        ]
        thread = httpx.get(url + f"/api/v1/conversations/{PEER}", headers=_bearer(shop)).json()
        assert [m["text"] for m in thread["messages"]] == [LONG_UCS2]
    finally:
        if gw is not None and gw.poll() is None:
            _stop(gw)
        _stop(sim)


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_cli_simulator_mo_against_a_running_demo(tmp_path: Path) -> None:
    demo = _start(
        ["demo", "--data-dir", str(tmp_path), "--http-port", "0", "--smpp-port", "0", "--no-open"]
    )
    try:
        _wait_line(demo, "API key:")
        info = json.loads((tmp_path / "demo.json").read_text())
        assert info["number"] == "+35924001234"
        mo = subprocess.run(
            [
                *SMSGATE,
                "simulator",
                "mo",
                "--data-dir",
                str(tmp_path),
                "--from",
                "+359888123456",
                "--to",
                info["number"],
                "--text",
                "Hours? " + LONG_GSM,
                "--concat",
                "sar",
                "--shuffle",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert json.loads(mo.stdout)["parts"] == 2
        thread = httpx.get(
            info["http_url"] + "/api/v1/conversations/+359888123456",
            headers=_bearer(info["api_key"]),
        ).json()
        assert [(m["direction"], m["text"][:30]) for m in thread["messages"]] == [
            ("outbound", "We are open Mon-Fri 9:00-18:00"),
            ("inbound", ("Hours? " + LONG_GSM)[:30]),
        ]
    finally:
        _stop(demo)

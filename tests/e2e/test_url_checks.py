"""Issue 10 §2.1 and §2.4 through the API: every URL a tenant gives (webhook `url`,
`callback_url`, keyword `forward_url`) is stored in normal form and refused (422
`url_not_allowed`) when it names or resolves to an address the operator did not allow; the
address is checked again when the call is made (DNS rebinding). Names resolve through FakeDns:
nothing here sends a packet off this machine."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from smsgate.bootstrap import Gateway
from smsgate.config import Settings
from smsgate.testing.sink import WebhookSink
from tests.adapters.webhook_client.fake_dns import FakeDns
from tests.adapters.webhook_client.test_url_guard import LOOPBACK_SPELLINGS
from tests.e2e.conftest import Env

PUBLIC = "93.184.216.34"
NUMBER = "+359885000200"


@dataclass
class Api:
    gateway: Gateway
    client: httpx.AsyncClient
    dns: FakeDns
    key: str
    account_id: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    async def save(self, kind: str, url: str) -> httpx.Response:
        """Give `url` to the API as `kind`: webhook, message, batch or keyword."""
        if kind == "webhook":
            return await self.client.post("/api/v1/webhooks", json={"url": url}, headers=self.auth)
        if kind == "message":
            body = {"to": "+359888123456", "text": "hi", "callback_url": url}
            return await self.client.post("/api/v1/messages", json=body, headers=self.auth)
        if kind == "batch":
            body = {"text": "hi", "recipients": [{"to": "+359888123456"}], "callback_url": url}
            return await self.client.post("/api/v1/batches", json=body, headers=self.auth)
        body = {"number": NUMBER, "keyword": "FWD", "action": "forward", "forward_url": url}
        return await self.client.post("/api/v1/keywords", json=body, headers=self.auth)


FIELDS = {
    "webhook": "url",
    "message": "callback_url",
    "batch": "callback_url",
    "keyword": "forward_url",
}


@contextlib.asynccontextmanager
async def api(tmp_path: Path, dns: FakeDns, allowed: tuple[str, ...] = ()) -> AsyncIterator[Api]:
    """The gateway (no SMSC: messages fail with no_route) on ASGITransport."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/gw.db",
        smpp_enabled=False,
        dispatch_poll_s=0.05,
        webhook_allowed_networks=allowed,
    )
    async with Gateway(settings, serve_http=False, resolver=dns) as gateway:
        now = gateway.clock.now()
        account = await gateway.store.create_account(name="a", now=now)
        _, key = await gateway.store.create_api_key(account.id, name="t", now=now)
        await gateway.two_way_manager.assign_number(NUMBER, account_id=account.id)
        transport = httpx.ASGITransport(app=gateway.api)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            yield Api(gateway, client, dns, key, account.id)


def names() -> FakeDns:
    # A later lookup of a public name (when a call would be made) answers an address that is
    # refused, so no test can reach a public address even by mistake.
    return FakeDns(
        {
            "private.example": [["10.0.0.5"]],
            "metadata.example": [["169.254.169.254"]],
            "public.example": [[PUBLIC], ["192.0.2.1"]],
        }
    )


@pytest.mark.parametrize("kind", list(FIELDS))
async def test_internal_addresses_are_refused_at_save(tmp_path: Path, kind: str) -> None:
    async with api(tmp_path, names()) as a:
        urls = [*LOOPBACK_SPELLINGS, "http://private.example/", "http://metadata.example/x"]
        for url in urls:
            r = await a.save(kind, url)
            assert r.status_code == 422, (url, r.text)
            error = r.json()["error"]
            assert error["code"] == "url_not_allowed", (url, error)
            assert error["field"] == FIELDS[kind]
        # Nothing was stored.
        assert (await a.client.get("/api/v1/webhooks", headers=a.auth)).json() == []
        listed = await a.client.get("/api/v1/messages", headers=a.auth)
        assert listed.json()["data"] == []
        assert (await a.client.get("/api/v1/keywords", headers=a.auth)).json() == []


@pytest.mark.parametrize("kind", ["webhook", "keyword"])
async def test_public_and_allowed_urls_are_stored_in_normal_form(tmp_path: Path, kind: str) -> None:
    async with api(tmp_path, names(), allowed=("10.0.0.0/8",)) as a:
        r = await a.save(kind, "https://Public.Example/ж😀?q=ж")
        assert r.status_code == 201, r.text
        assert r.json()[FIELDS[kind]] == "https://public.example/%D0%B6%F0%9F%98%80?q=%D0%B6"
        # The operator allowed 10/8: a name resolving there is accepted; 169.254/16 is not.
        assert (await a.save(kind, "http://private.example:8080/")).status_code in (201, 409)
        refused = await a.save(kind, "http://metadata.example/")
        assert refused.json()["error"]["code"] == "url_not_allowed"


@pytest.mark.parametrize("kind", list(FIELDS))
@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://public.example/", "http or https"),
        ("http://public.example/#top", "fragment"),
        ("http://user:pw@public.example/", "user name or password"),
        ("http://1.2.3.256/", "IPv4"),
        ("http://public.example:99999/", "port"),
    ],
)
async def test_malformed_urls_are_refused_with_a_reason(
    tmp_path: Path, kind: str, url: str, reason: str
) -> None:
    async with api(tmp_path, names()) as a:
        r = await a.save(kind, url)
        assert r.status_code == 422, r.text
        error = r.json()["error"]
        assert error["code"] == "invalid_request"
        assert error["field"] == FIELDS[kind]
        assert reason in error["message"]


async def test_dns_rebinding_is_refused_when_the_call_is_made(tmp_path: Path) -> None:
    # Public when the message is accepted, loopback when its callback is called; the sink on
    # loopback must get nothing.
    async with WebhookSink() as sink:
        dns = FakeDns({"hooks.example": [[PUBLIC], ["127.0.0.1"]]})
        async with api(tmp_path, dns) as a:
            url = f"http://hooks.example:{sink.port}/cb"
            sent = await a.save("message", url)
            assert sent.status_code == 202, sent.text
            message_id = sent.json()["id"]
            await dns.wait_asked(2)  # the sender looked the name up again
            await a.gateway.webhooks.stop()  # finishes the attempt and records it
            r = await a.client.get(f"/api/v1/messages/{message_id}/deliveries", headers=a.auth)
            assert r.status_code == 200, r.text
            [delivery] = r.json()
            assert delivery["url"] == url
            assert delivery["webhook_id"] is None
            assert delivery["status"] == "pending"  # retried later, checked again then
            assert delivery["last_error"] == "url_not_allowed"
            assert [h["error"] for h in delivery["history"]] == ["url_not_allowed"]
        assert sink.received == []


async def test_a_non_latin_path_is_stored_normalised_and_delivered(env: Env) -> None:
    encoded = "/%D0%B6%F0%9F%98%80"
    hook = await env.client.post(
        "/api/v1/webhooks", json={"url": env.sink.url + "/ж😀"}, headers=env.auth()
    )
    assert hook.status_code == 201, hook.text
    assert hook.json()["url"] == env.sink.url + encoded
    got = await env.client.get(f"/api/v1/webhooks/{hook.json()['id']}", headers=env.auth())
    assert got.json()["url"] == env.sink.url + encoded
    sent = await env.send(to="+359888123456", text="hi", callback_url=env.sink.url + "/cb/ж")
    assert sent.status_code == 202, sent.text
    message_id = sent.json()["id"]
    await env.sink.wait_for(
        lambda got: (
            {r.path for r in got if r.json["data"]["id"] == message_id} >= {encoded, "/cb/%D0%B6"}
        )
    )
    deliveries = await env.client.get(
        f"/api/v1/messages/{message_id}/deliveries", headers=env.auth()
    )
    assert {d["url"] for d in deliveries.json()} == {
        env.sink.url + encoded,
        env.sink.url + "/cb/%D0%B6",
    }

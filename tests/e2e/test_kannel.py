"""Issue 4 interop: Kannel's bearerbox binds to our SMPP server like to an SMSC.

Kannel (Debian package `kannel`) is an independent SMPP client: its `smsc = smpp` group binds
as a transceiver to smsgate, its smsbox's sendsms interface is where the messages start, and
its dlr-url callbacks (to the test's sink) prove that our deliver_sm receipts came back and
were matched by Kannel to the submit_sm_resp message_id it had stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from smsgate.testing.sink import Received
from tests.e2e.conftest import Env, add_smpp_login, running_env
from tests.e2e.kannel import daemon
from tests.e2e.kannel.daemon import Kannel, running_kannel

pytestmark = pytest.mark.skipif(
    not daemon.installed(),
    reason="Kannel is not installed (bearerbox/smsbox; Debian package `kannel`, see .ci/run)",
)

SYSTEM_ID = "kannel"
PASSWORD = "kannelpw"
DLR_DELIVERED = 1  # Kannel's dlr-mask bits: 1 delivered, 2 failed, 4 buffered,
DLR_ACKED = 8  # 8 accepted by the SMSC (submit_sm_resp ESME_ROK), 16 rejected by it.


@dataclass
class Interop:
    env: Env
    kannel: Kannel
    http: httpx.AsyncClient

    async def sendsms(self, tag: str, to: str, text: str, **extra: str) -> None:
        """Send through Kannel's sendsms with a dlr-url carrying `tag` to the sink."""
        # Kannel escapes: %d DLR type, %F the SMSC's (our) message id, %A the receipt text.
        dlr_url = f"{self.env.sink.url}/kannel/{tag}?type=%d&id=%F&reply=%A"
        params = {
            "username": daemon.SENDSMS_USER,
            "password": daemon.SENDSMS_PASSWORD,
            "from": "ACME",
            "to": to,
            "text": text,
            "dlr-mask": "31",
            "dlr-url": dlr_url,
            **extra,
        }
        resp = await self.http.get(self.kannel.sendsms_url, params=params)
        assert resp.status_code == 202, resp.text  # "0: Accepted for delivery"

    async def dlrs(self, tag: str, count: int, dlr_type: int) -> list[dict[str, str]]:
        """Wait until `count` callbacks of `dlr_type` arrived for `tag`; all of the tag's."""

        def of_tag(items: list[Received]) -> list[dict[str, str]]:
            prefix = f"/kannel/{tag}?"
            return [_query(r.path) for r in items if r.path.startswith(prefix)]

        def enough(items: list[Received]) -> bool:
            return sum(d["type"] == str(dlr_type) for d in of_tag(items)) >= count

        try:
            received = await self.env.sink.wait_for(enough, timeout=20)
        except TimeoutError:
            seen = of_tag(self.env.sink.received)
            pytest.fail(f"{count} DLR {dlr_type} for {tag} expected, got {seen}")
        return of_tag(received)

    async def delivered(self, message_id: str) -> None:
        """Wait for the account's webhook to report the message `delivered` (all its parts)."""

        def seen(items: list[Received]) -> bool:
            return any(
                r.path.startswith("/hook")
                and r.json["data"]["id"] == message_id
                and r.json["data"]["status"] == "delivered"
                for r in items
            )

        await self.env.sink.wait_for(seen, timeout=20)

    async def message(self, message_id: str) -> dict[str, Any]:
        got = await self.env.client.get(f"/api/v1/messages/{message_id}", headers=self.env.auth())
        assert got.status_code == 200, got.text
        body: dict[str, Any] = got.json()
        return body

    async def listed(self, to: str) -> list[dict[str, Any]]:
        got = await self.env.client.get(
            "/api/v1/messages", params={"to": to}, headers=self.env.auth()
        )
        assert got.status_code == 200, got.text
        data: list[dict[str, Any]] = got.json()["data"]
        return data


def _query(path: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(path).query, keep_blank_values=True).items()}


@pytest.fixture
async def interop(tmp_path: Path) -> AsyncIterator[Interop]:
    async with running_env(tmp_path) as env:
        await add_smpp_login(env.gateway, env.account_a, SYSTEM_ID, PASSWORD)
        hook = await env.client.post(
            "/api/v1/webhooks", json={"url": env.sink.url + "/hook"}, headers=env.auth()
        )
        assert hook.status_code == 201, hook.text
        async with (
            running_kannel(
                tmp_path,
                smpp_port=env.gateway.smpp_port,
                system_id=SYSTEM_ID,
                password=PASSWORD,
            ) as kannel,
            httpx.AsyncClient(timeout=10) as http,
        ):
            yield Interop(env, kannel, http)


async def test_kannel_sends_through_smsgate_and_gets_receipts(interop: Interop) -> None:
    await interop.sendsms("gsm", "+359888100001", "Hello from Kannel")
    await interop.dlrs("gsm", 1, DLR_ACKED)  # smsbox may fetch the two URLs in any order
    dlrs = await interop.dlrs("gsm", 1, DLR_DELIVERED)
    delivered = next(d for d in dlrs if d["type"] == str(DLR_DELIVERED))
    message_id = delivered["id"]
    # The receipt Kannel matched is ours: its id is the submit_sm_resp message_id (a string,
    # kept as is by Kannel) and the text is the standard receipt of that message.
    assert message_id.startswith("msg_")
    assert f"id:{message_id} " in delivered["reply"]
    assert "stat:DELIVRD" in delivered["reply"]
    assert any(d["type"] == str(DLR_ACKED) and d["id"] == message_id for d in dlrs)
    await interop.delivered(message_id)
    message = await interop.message(message_id)
    assert message["text"] == "Hello from Kannel"
    assert message["to"] == "+359888100001"
    assert message["status"] == "delivered"
    assert [m["id"] for m in await interop.listed("+359888100001")] == [message_id]
    sent = [s for s in interop.env.sim.submitted if s.destination == "359888100001"]
    assert len(sent) == 1


LONG_TEXT = " ".join(f"Part of a long message from Kannel, word {i:03d}." for i in range(9))


async def _send_long(interop: Interop, tag: str, to: str) -> str:
    """Kannel splits LONG_TEXT into three submit_sm with a UDH; our id of the first part."""
    assert 306 < len(LONG_TEXT) <= 459  # three GSM parts of 153 characters
    await interop.sendsms(tag, to, LONG_TEXT)
    # Kannel's ACK (DLR 8) carries the submit_sm_resp id of the part it asked a DLR for.
    dlrs = await interop.dlrs(tag, 1, DLR_ACKED)
    return next(d["id"] for d in dlrs if d["type"] == str(DLR_ACKED))


async def test_kannel_long_message_is_one_message_of_n_parts(interop: Interop) -> None:
    part_id = await _send_long(interop, "long", "+359888100002")
    # Each part has its own id from us (`<message id>.<seq>`), as an SMSC gives; Kannel
    # asks for the DLR (registered_delivery) on the first part only.
    message_id, seq = part_id.rsplit(".", 1)
    assert message_id.startswith("msg_")
    assert seq == "1"
    await interop.delivered(message_id)
    message = await interop.message(message_id)
    assert message["parts"] == 3
    assert message["text"] == LONG_TEXT
    assert message["status"] == "delivered"
    assert [m["id"] for m in await interop.listed("+359888100002")] == [message_id]
    sent = [s for s in interop.env.sim.submitted if s.destination == "359888100002"]
    assert len(sent) == 3


async def test_kannel_long_message_receipt_comes_back(interop: Interop) -> None:
    part_id = await _send_long(interop, "long-dlr", "+359888100004")
    dlrs = await interop.dlrs("long-dlr", 1, DLR_DELIVERED)
    assert [d["id"] for d in dlrs if d["type"] == str(DLR_DELIVERED)] == [part_id]


async def test_kannel_ucs2_message(interop: Interop) -> None:
    text = "Здравей от Kannel: Καλημέρα, 你好"
    await interop.sendsms("ucs2", "+359888100003", text, coding="2", charset="UTF-8")
    dlrs = await interop.dlrs("ucs2", 1, DLR_DELIVERED)
    message_id = next(d["id"] for d in dlrs if d["type"] == str(DLR_DELIVERED))
    await interop.delivered(message_id)
    message = await interop.message(message_id)
    assert message["text"] == text
    assert message["encoding"] == "ucs2"
    assert message["status"] == "delivered"

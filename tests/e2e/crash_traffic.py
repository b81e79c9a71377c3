"""The crash test's traffic (tests/e2e/test_crash.py): which messages come over HTTP and
which as submit_sm, what each looks like, and the SMPP customer that sends the latter.

Message i goes to its own number over one channel. Over HTTP, every 10th message is long
(the gateway splits it in two). Over SMPP, every 50th message (one in 20 there) is sent by
the ESME itself as two UDH-concatenated submit_sm (esm_class UDHI), each one unit of the
ESME's work; every other message is one unit.

SMPP has no idempotency key: a submit_sm committed by a process killed before its
submit_sm_resp went out is sent again by the ESME and becomes a second message. Each attempt
therefore carries its number in its text, so the SMSC's records tell such a resubmission
(counted, allowed only for submits cut by a crash) from one part sent twice. A part of a
long message is sent again as it was, as an ESME does: the gateway finds it in the group it
was stored in and gives the same answer (services/client_parts.py), so a long message never
splits into two.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from smsgate.smpp import EsmClass, SubmitSm
from tests.e2e.procs import GatewayProcess, query, run_cli
from tests.e2e.smpp_esme import EsmeRecord

LONG_EVERY = 10  # over HTTP: every 10th message needs two parts
SMPP_LONG_EVERY = 50  # every 50th message (an SMPP one) comes as two UDH parts
SMPP_ACCOUNT = "crash-smpp"
SMPP_LOGIN = ("crash", "crashpw")
UDH = bytes([5, 0, 3])  # IEI 0x00: concatenation, 8-bit reference (3GPP TS 23.040 §9.2.3.24.1)


def over_smpp(i: int) -> bool:
    """Two messages in five come in as submit_sm."""
    return i % 5 >= 3


def number(i: int) -> str:
    # Last four digits never hit the simulator's magic suffixes (9990-9995).
    return f"3598881{i:05d}"


def message_id(smpp_id: str) -> str:
    """The message of a submit_sm_resp id (`<message id>.<part>` for a UDH part)."""
    head, dot, tail = smpp_id.rpartition(".")
    return head if dot and tail.isdigit() else smpp_id


@dataclass(frozen=True)
class Traffic:
    """The test's messages: index i goes to number(i), over HTTP or SMPP."""

    http: list[int]  # message indexes sent over HTTP, in order
    units: list[tuple[int, int]]  # submit_sm to make: (message index, UDH part or 0)

    @staticmethod
    def plan(messages: int) -> Traffic:
        http = [i for i in range(messages) if not over_smpp(i)]
        units = []
        for i in range(messages):
            if over_smpp(i):
                long = i % SMPP_LONG_EVERY == SMPP_LONG_EVERY - 1
                units += [(i, 1), (i, 2)] if long else [(i, 0)]
        return Traffic(http, units)

    @property
    def smpp_long(self) -> int:
        return sum(1 for _i, part in self.units if part == 1)

    def bodies(self, callback_url: str) -> list[dict[str, Any]]:
        out = []
        for i in self.http:
            text = f"crash test message {i}"
            if i % LONG_EVERY == 0:
                text = (text + " " + "long " * 40).strip()
            out.append(
                {"to": "+" + number(i), "from": "CRASH", "text": text, "callback_url": callback_url}
            )
        return out

    def submit_sm(self, index: int, attempt: int, sequence_number: int) -> SubmitSm:
        """Attempt `attempt` of unit `index`, asking for a receipt."""
        i, part = self.units[index]
        short = f"crash test smpp {i} try {attempt}".encode()
        esm_class = 0
        if part:
            text = f"crash test smpp {i} part {part} " + "long " * 20
            short = UDH + bytes([i & 0xFF, 2, part]) + text.encode()
            esm_class = EsmClass.UDHI
        return SubmitSm(
            sequence_number=sequence_number,
            source_addr_ton=5,
            source_addr="CRASH",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr=number(i),
            esm_class=esm_class,
            registered_delivery=1,
            data_coding=0,
            short_message=short,
        )

    def split_long(self, record: EsmeRecord) -> set[int]:
        """Long SMPP messages whose parts went into two gateway messages: none, since a
        part finds the group it belongs to, even one another process stored, and a part
        sent again after a kill gets the answer it had (else the message left with part 1
        alone would fail as incomplete_concatenation, unsent, with a REJECTD receipt)."""
        ids: dict[int, set[str]] = defaultdict(set)
        for index, sid in record.accepted.items():
            i, part = self.units[index]
            if part:
                ids[i].add(message_id(sid))
        return {i for i, mids in ids.items() if len(mids) > 1}


async def smpp_customer(config: Path, gw: GatewayProcess, webhook_url: str) -> None:
    """The SMPP customer: an account with an SMPP login (admin API) and a webhook."""
    out = await run_cli("accounts", "create", SMPP_ACCOUNT, "--admin", "--config", str(config))
    account = re.search(r"account (\S+) \(", out)
    key = re.search(r"API key \(shown once\): (\S+)", out)
    assert account, out
    assert key, out
    auth = {"Authorization": f"Bearer {key.group(1)}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gw.port}", timeout=30) as client:
        login = await client.post(
            f"/api/v1/admin/accounts/{account.group(1)}/smpp",
            json={"system_id": SMPP_LOGIN[0], "password": SMPP_LOGIN[1], "max_binds": 2},
            headers=auth,
        )
        assert login.status_code == 201, login.text
        hook = await client.post(
            "/api/v1/webhooks",
            json={"url": webhook_url, "events": ["message.status"]},
            headers=auth,
        )
        assert hook.status_code == 201, hook.text


async def smpp_units(database_url: str) -> set[str]:
    """The SMPP ids the gateway committed for the ESME: one per message it split itself,
    `<message id>.<part>` per part of a message the ESME concatenated."""
    rows = await query(
        database_url,
        "SELECT m.id, m.source, p.seq FROM messages m JOIN accounts a ON a.id = m.account_id "
        f"JOIN parts p ON p.message_id = m.id WHERE a.name = '{SMPP_ACCOUNT}'",
    )
    return {mid if source == "smpp" else f"{mid}.{seq}" for mid, source, seq in rows}


class Kicking(asyncio.Event):
    """An event that also calls `on_set` whenever it is set (HTTP progress kicks the ESME)."""

    def __init__(self) -> None:
        super().__init__()
        self.on_set: Callable[[], None] = lambda: None

    def set(self) -> None:
        super().set()
        self.on_set()


async def until(predicate: Callable[[], bool], *events: asyncio.Event) -> None:
    """Wait until `predicate()`, testing it again whenever one of `events` is set."""
    while not predicate():
        for event in events:
            event.clear()
        waiters = [asyncio.ensure_future(event.wait()) for event in events]
        _done, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for waiter in pending:
            waiter.cancel()

"""Issue 4: customers bind to smsgate over SMPP like to an SMSC (smpplib as the client)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from smsgate.smpp import CancelSm, DataSm, DataSmResp, EnquireLink, ReplaceSm, Tlv, TlvTag
from smsgate.smpp.constants import CommandStatus
from smsgate.smpp.receipt import parse_receipt
from tests.adapters.smpp_server.helpers import RawClient
from tests.e2e.conftest import Env, add_smpp_login, running_env
from tests.e2e.esme import Esme

UDH = bytes([5, 0, 3])


@pytest.fixture
async def smpp_env(tmp_path: Path) -> AsyncIterator[Env]:
    async with running_env(tmp_path) as env:
        for system_id, account, rate in (
            ("esme1", env.account_a, None),
            ("esme2", env.account_b, 5.0),
        ):
            await add_smpp_login(
                env.gateway, account, system_id, "secret1", max_binds=3, submit_rate_per_s=rate
            )
        yield env


def esme(
    env: Env, system_id: str = "esme1", password: str = "secret1", bind: str = "transceiver"
) -> Esme:
    return Esme(env.gateway.smpp_port, system_id, password, bind)


async def _open(e: Esme) -> Esme:
    await asyncio.to_thread(e.open)
    return e


async def test_bind_types_and_refusals(smpp_env: Env) -> None:
    for kind in ("transmitter", "receiver", "transceiver"):
        e = esme(smpp_env, bind=kind)
        assert await asyncio.to_thread(e.bind_status) == 0
        await asyncio.to_thread(e.close)
    # One status for every refusal: a valid system_id is not told from an unknown one.
    wrong = esme(smpp_env, password="nope")
    assert await asyncio.to_thread(wrong.bind_status) == CommandStatus.ESME_RBINDFAIL
    await asyncio.to_thread(wrong.client.disconnect)
    unknown = esme(smpp_env, system_id="nobody")
    assert await asyncio.to_thread(unknown.bind_status) == CommandStatus.ESME_RBINDFAIL
    await asyncio.to_thread(unknown.client.disconnect)


async def test_outside_the_allow_list_a_right_password_is_refused_like_a_wrong_one(
    smpp_env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    gateway = smpp_env.gateway
    await add_smpp_login(gateway, smpp_env.account_a, "fenced", "secret1", allowed_ips="127.0.0.1")
    caplog.set_level(logging.INFO, logger="smsgate.smpp_server")
    statuses = {}
    for password in ("secret1", "wrong"):
        client = await RawClient.connect(gateway.smpp_port, source="127.0.0.2")
        statuses[password] = await client.bind(system_id="fenced", password=password)
        await client.close()
    assert statuses == {
        "secret1": CommandStatus.ESME_RBINDFAIL,
        "wrong": CommandStatus.ESME_RBINDFAIL,
    }
    # Both were refused for their address: the password was not looked at.
    reasons = [r.getMessage() for r in caplog.records if "'fenced' refused" in r.getMessage()]
    assert len(reasons) == 2
    assert all("allow-list" in reason for reason in reasons), reasons
    assert "secret1" not in caplog.text
    inside = await RawClient.connect(gateway.smpp_port)  # from 127.0.0.1
    assert await inside.bind(system_id="fenced", password="secret1") == CommandStatus.ESME_ROK
    await inside.close()


async def test_a_flood_from_one_address_leaves_a_bind_from_another_working(
    tmp_path: Path,
) -> None:
    async with running_env(tmp_path, gateway_options={"smpp_max_connections_per_ip": 3}) as env:
        await add_smpp_login(env.gateway, env.account_a, "esme1", "secret1")
        port = env.gateway.smpp_port
        flood = [await RawClient.connect(port) for _ in range(5)]
        for client in flood:  # idle and unbound; the ones past the cap are closed at once
            client.send(EnquireLink(sequence_number=1))
        answered = [await client.recv() is not None for client in flood]
        assert answered.count(True) == 3
        other = await RawClient.connect(port, source="127.0.0.2")
        assert await other.bind(system_id="esme1", password="secret1") == CommandStatus.ESME_ROK
        for client in [*flood, other]:
            await client.close()


async def test_a_connection_that_does_not_bind_in_time_is_closed(tmp_path: Path) -> None:
    async with running_env(tmp_path, gateway_options={"smpp_bind_timeout_s": 0.05}) as env:
        client = await RawClient.connect(env.gateway.smpp_port)
        assert await client.closed_by_server()  # EOF, without a word from us


async def test_submit_is_delivered_with_a_matching_receipt(smpp_env: Env) -> None:
    e = await _open(esme(smpp_env))
    try:
        resp = await asyncio.to_thread(
            e.submit,
            destination_addr="359888123456",
            short_message=b"Hello over SMPP",
            data_coding=0,
            registered_delivery=1,
        )
        assert resp.status == 0
        message_id = resp.message_id.decode()
        got = await smpp_env.client.get(f"/api/v1/messages/{message_id}", headers=smpp_env.auth())
        assert got.status_code == 200
        assert got.json()["text"] == "Hello over SMPP"
        assert got.json()["to"] == "+359888123456"
        delivered = await asyncio.to_thread(e.wait_delivered, 1)
        receipt = delivered[0]
        assert receipt.esm_class & 0x04
        assert receipt.receipted_message_id.decode() == message_id
        parsed = parse_receipt(receipt.short_message)
        assert parsed is not None
        assert parsed.id == message_id
        assert parsed.stat == "DELIVRD"
        assert receipt.message_state == 2
    finally:
        await asyncio.to_thread(e.close)
    # The other account never sees it.
    other = await smpp_env.client.get(
        f"/api/v1/messages/{message_id}", headers=smpp_env.auth(smpp_env.key_b)
    )
    assert other.status_code == 404


async def test_ucs2_and_undeliverable_receipts(smpp_env: Env) -> None:
    e = await _open(esme(smpp_env))
    try:
        ok = await asyncio.to_thread(
            e.submit,
            destination_addr="359888123457",
            short_message="Здравей 😀".encode("utf-16-be"),
            data_coding=8,
            registered_delivery=1,
        )
        bad = await asyncio.to_thread(
            e.submit,
            destination_addr="359888129990",
            short_message=b"undeliverable",
            registered_delivery=1,
        )
        delivered = await asyncio.to_thread(e.wait_delivered, 2)
        by_id = {d.receipted_message_id.decode(): d for d in delivered}
        assert parse_receipt(by_id[ok.message_id.decode()].short_message).stat == "DELIVRD"
        assert parse_receipt(by_id[bad.message_id.decode()].short_message).stat == "UNDELIV"
        got = await smpp_env.client.get(
            f"/api/v1/messages/{ok.message_id.decode()}", headers=smpp_env.auth()
        )
        assert got.json()["text"] == "Здравей 😀"
        assert got.json()["encoding"] == "ucs2"
    finally:
        await asyncio.to_thread(e.close)


@pytest.mark.parametrize("how", ["udh", "sar"])
async def test_concatenated_parts_are_one_message_of_n_parts(smpp_env: Env, how: str) -> None:
    texts = ["First part of a long message, ", "the second part, ", "and the end."]
    e = await _open(esme(smpp_env))
    try:
        ids = []
        for seq, text in enumerate(texts, start=1):
            if how == "udh":
                fields = {
                    "short_message": UDH + bytes([0x42, 3, seq]) + text.encode(),
                    "esm_class": 0x40,
                }
            else:
                fields = {
                    "short_message": text.encode(),
                    "sar_msg_ref_num": 0x1234,
                    "sar_total_segments": 3,
                    "sar_segment_seqnum": seq,
                }
            resp = await asyncio.to_thread(
                e.submit, destination_addr="359888123458", registered_delivery=1, **fields
            )
            assert resp.status == 0
            ids.append(resp.message_id.decode())
        message_id = ids[0].rsplit(".", 1)[0]
        assert ids == [f"{message_id}.{i}" for i in (1, 2, 3)]
        delivered = await asyncio.to_thread(e.wait_delivered, 3)
        assert sorted(d.receipted_message_id.decode() for d in delivered) == ids
        got = (
            await smpp_env.client.get(f"/api/v1/messages/{message_id}", headers=smpp_env.auth())
        ).json()
        assert got["parts"] == 3
        assert got["text"] == "".join(texts)
        assert got["status"] == "delivered"
        listed = (
            await smpp_env.client.get(
                "/api/v1/messages", params={"to": "+359888123458"}, headers=smpp_env.auth()
            )
        ).json()["data"]
        assert [m["id"] for m in listed] == [message_id]
        seen = [s for s in smpp_env.sim.submitted if s.destination == "359888123458"]
        assert len(seen) == 3
    finally:
        await asyncio.to_thread(e.close)


async def test_query_and_cancel(smpp_env: Env) -> None:
    e = await _open(esme(smpp_env))
    try:
        later = await asyncio.to_thread(
            e.submit,
            destination_addr="359888123459",
            short_message=b"tomorrow",
            schedule_delivery_time="000001000000000R",  # one day from now (relative)
        )
        message_id = later.message_id.decode()
        query = await asyncio.to_thread(
            e.request, "query_sm", message_id=message_id, source_addr="ACME", source_addr_ton=5
        )
        assert query.status == 0
        assert query.message_state == 1  # ENROUTE: scheduled, not final

        def cancel_sm() -> int:
            pdu = CancelSm(
                sequence_number=e.next_sequence(),
                message_id=message_id,
                source_addr="ACME",
                source_addr_ton=5,
                destination_addr="359888123459",
                dest_addr_ton=1,
            )
            return e.request_raw(pdu).command_status

        assert await asyncio.to_thread(cancel_sm) == 0
        got = (
            await smpp_env.client.get(f"/api/v1/messages/{message_id}", headers=smpp_env.auth())
        ).json()
        assert got["status"] == "canceled"
        assert await asyncio.to_thread(cancel_sm) == CommandStatus.ESME_RCANCELFAIL
        unknown = await asyncio.to_thread(
            e.request, "query_sm", message_id="msg_nope", source_addr="ACME", source_addr_ton=5
        )
        assert unknown.status == CommandStatus.ESME_RQUERYFAIL
    finally:
        await asyncio.to_thread(e.close)


async def test_throttling_and_bad_submits(smpp_env: Env) -> None:
    e = await _open(esme(smpp_env, system_id="esme2"))
    try:
        statuses = []
        for i in range(15):
            resp = await asyncio.to_thread(
                e.submit, destination_addr=f"3598881000{i:02d}", short_message=b"burst"
            )
            statuses.append(resp.status)
        assert CommandStatus.ESME_RTHROTTLED in statuses
        assert 0 in statuses
        bad_dest = await asyncio.to_thread(e.submit, destination_addr="12", short_message=b"x")
        assert bad_dest.status in (CommandStatus.ESME_RINVDSTADR, CommandStatus.ESME_RTHROTTLED)
    finally:
        await asyncio.to_thread(e.close)


async def test_receipts_wait_for_a_receiver_to_bind(smpp_env: Env) -> None:
    hook = await smpp_env.client.post(
        "/api/v1/webhooks", json={"url": smpp_env.sink.url}, headers=smpp_env.auth()
    )
    assert hook.status_code == 201
    tx = await _open(esme(smpp_env, bind="transmitter"))
    try:
        resp = await asyncio.to_thread(
            tx.submit, destination_addr="359888123460", short_message=b"kept", registered_delivery=1
        )
        message_id = resp.message_id.decode()
    finally:
        await asyncio.to_thread(tx.close)
    await smpp_env.sink.wait_status(message_id, "delivered")
    rx = await _open(esme(smpp_env, bind="receiver"))
    try:
        delivered = await asyncio.to_thread(rx.wait_delivered, 1)
        assert delivered[0].receipted_message_id.decode() == message_id
    finally:
        await asyncio.to_thread(rx.close)


async def test_replace_scheduled_and_data_sm(smpp_env: Env) -> None:
    e = await _open(esme(smpp_env))
    try:
        later = await asyncio.to_thread(
            e.submit,
            destination_addr="359888123461",
            short_message=b"old text",
            schedule_delivery_time="000001000000000R",
        )
        message_id = later.message_id.decode()

        def replace_sm() -> int:
            pdu = ReplaceSm(
                sequence_number=e.next_sequence(),
                message_id=message_id,
                source_addr="ACME",
                source_addr_ton=5,
                short_message=b"new text",
            )
            return e.request_raw(pdu).command_status

        assert await asyncio.to_thread(replace_sm) == 0
        got = (
            await smpp_env.client.get(f"/api/v1/messages/{message_id}", headers=smpp_env.auth())
        ).json()
        assert got["text"] == "new text"
        assert got["status"] == "scheduled"

        def data_sm() -> DataSmResp:
            pdu = DataSm(
                sequence_number=e.next_sequence(),
                source_addr="ACME",
                source_addr_ton=5,
                destination_addr="359888123462",
                dest_addr_ton=1,
                data_coding=0,
                tlvs=(Tlv.octets(TlvTag.MESSAGE_PAYLOAD, b"x" * 300),),
            )
            resp = e.request_raw(pdu)
            assert isinstance(resp, DataSmResp)
            return resp

        resp = await asyncio.to_thread(data_sm)
        assert resp.command_status == 0
        long = (
            await smpp_env.client.get(
                f"/api/v1/messages/{resp.message_id}", headers=smpp_env.auth()
            )
        ).json()
        assert long["text"] == "x" * 300
        assert long["parts"] == 2
    finally:
        await asyncio.to_thread(e.close)


async def test_inbound_messages_go_to_the_accounts_receiver(smpp_env: Env) -> None:
    now = time.time()
    admin = await smpp_env.gateway.store.create_account(name="ops", role="admin", now=now)
    _, admin_key = await smpp_env.gateway.store.create_api_key(admin.id, name="ops", now=now)
    assigned = await smpp_env.client.post(
        "/api/v1/numbers",
        json={"number": "+35924001234", "account_id": smpp_env.account_a},
        headers={"Authorization": f"Bearer {admin_key}"},
    )
    assert assigned.status_code == 201, assigned.text
    rx = await _open(esme(smpp_env, bind="receiver"))
    try:
        long_text = "Ще дойда в четвъртък в 10:30, благодаря! " * 3
        await smpp_env.sim.inject_mo("359888123456", "35924001234", "Yes, confirmed")
        await smpp_env.sim.inject_mo("359888123456", "35924001234", long_text, concat="udh8")
        delivered = await asyncio.to_thread(rx.wait_delivered, 2)
        short, long = delivered
        assert short.esm_class & 0x04 == 0
        assert short.source_addr.decode() == "359888123456"
        assert short.destination_addr.decode() == "35924001234"
        assert short.short_message == b"Yes, confirmed"
        assert long.data_coding == 8
        payload = long.short_message or long.message_payload
        assert payload.decode("utf-16-be") == long_text
    finally:
        await asyncio.to_thread(rx.close)


async def test_receipts_only_for_the_parts_that_asked(smpp_env: Env) -> None:
    e = await _open(esme(smpp_env))
    try:
        ids = {}
        for seq in (2, 1, 3):  # part 2 first: the part that creates the message asks nothing
            resp = await asyncio.to_thread(
                e.submit,
                destination_addr="359888123463",
                short_message=UDH + bytes([0x43, 3, seq]) + f"part {seq} ".encode(),
                esm_class=0x40,
                registered_delivery=1 if seq == 1 else 0,
            )
            assert resp.status == 0
            ids[seq] = resp.message_id.decode()
        message_id = ids[1].rsplit(".", 1)[0]
        got = await smpp_env.client.get(f"/api/v1/messages/{message_id}", headers=smpp_env.auth())
        assert got.json()["text"] == "part 1 part 2 part 3 "
        delivered = await asyncio.to_thread(e.wait_delivered, 1)
        assert [d.receipted_message_id.decode() for d in delivered] == [ids[1]]
        # No receipt for parts 2 and 3 is kept either (the one for part 1 may still be on its
        # way out of the table: it is removed once the ESME's answer is recorded).
        parts = await smpp_env.gateway.store.get_parts(message_id)
        assert [p.status for p in parts] == ["delivered"] * 3
        pending = await smpp_env.gateway.store.pending_smpp(
            smpp_env.account_a, now=time.time() + 3600, limit=10
        )
        assert all(f'"receipted_message_id": "{ids[1]}"' in p.pdu for p in pending)
    finally:
        await asyncio.to_thread(e.close)


async def test_part_limits_and_a_group_that_never_completes(tmp_path: Path) -> None:
    options = {"smpp_reassembly_timeout_s": 0.3}
    async with running_env(tmp_path, gateway_options=options) as env:
        await add_smpp_login(env.gateway, env.account_a, "esme1", "secret1")
        e = await _open(esme(env))
        try:

            def part(seq: int, total: int, ref: int = 0x44) -> object:
                return e.submit(
                    destination_addr="359888123470",
                    short_message=UDH + bytes([ref, total, seq]) + f"part {seq} ".encode(),
                    esm_class=0x40,
                    registered_delivery=1,
                )

            # The account allows 10 parts: a part of an 11-part message, or "part 1 of 255",
            # is refused as too long; nothing is stored.
            for seq, total in ((11, 11), (1, 11), (1, 255)):
                refused = await asyncio.to_thread(part, seq, total, 0x45)
                assert refused.status == CommandStatus.ESME_RINVMSGLEN
            # Parts 1 and 2 of 3 arrive, part 3 never does.
            ids = [(await asyncio.to_thread(part, seq, 3)).message_id.decode() for seq in (1, 2)]
            message_id = ids[0].rsplit(".", 1)[0]
            receipts = await asyncio.to_thread(e.wait_delivered, 2)
            stats = {
                d.receipted_message_id.decode(): parse_receipt(d.short_message).stat
                for d in receipts
            }
            assert stats == {ids[0]: "REJECTD", ids[1]: "REJECTD"}
        finally:
            await asyncio.to_thread(e.close)
        got = (await env.client.get(f"/api/v1/messages/{message_id}", headers=env.auth())).json()
        assert got["status"] == "failed"
        assert got["error"]["code"] == "incomplete_concatenation"
        listed = await env.client.get(
            "/api/v1/messages", params={"to": "+359888123470"}, headers=env.auth()
        )
        assert [m["id"] for m in listed.json()["data"]] == [message_id]
        assert [s for s in env.sim.submitted if s.destination == "359888123470"] == []

"""submit_sm and data_sm from the independent smpplib client and from the raw client: what
the hook sees, what the ESME gets back, throttling, bind-state refusals, hook failures; and
query_sm / cancel_sm / replace_sm reaching their hooks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import smpplib.consts

from smsgate.adapters.smpp_server import (
    QueryResult,
    SessionInfo,
    StaticHooks,
    SubmitResult,
)
from smsgate.codec import Concat, decode_payload, split, split_udh
from smsgate.smpp.constants import CommandStatus, EsmClass, MessageState, TlvTag
from smsgate.smpp.pdu import (
    CancelSm,
    DataSm,
    DataSmResp,
    QuerySm,
    QuerySmResp,
    ReplaceSm,
    SubmitSm,
)
from smsgate.smpp.tlv import Tlv, tlv_value
from tests.adapters.smpp_server.helpers import (
    ACME,
    SLOW,
    RawClient,
    running,
    smpplib_client,
)

S = CommandStatus


def _smpplib_submit(
    port: int,
    kind: str,
    messages: list[dict[str, Any]],
    *,
    system_id: str = "acme",
    password: str = "secret",
) -> list[tuple[int, str]]:
    """Bind with smpplib, submit each message, collect (status, message_id) in order."""
    got: list[tuple[int, str]] = []

    def sent(pdu: Any, **_: Any) -> None:
        got.append((int(pdu.status), pdu.message_id.decode() if pdu.message_id else ""))

    def error(pdu: Any) -> None:
        pass  # smpplib hands an error submit_sm_resp to the sent handler as well

    client = smpplib_client(port)
    try:
        getattr(client, f"bind_{kind}")(system_id=system_id, password=password)
        client.set_message_sent_handler(sent)
        client.set_error_pdu_handler(error)
        for fields in messages:
            client.send_message(
                source_addr_ton=5, source_addr="Shop", dest_addr_ton=1, dest_addr_npi=1,
                destination_addr="491701234567", **fields,
            )  # fmt: skip
        while len(got) < len(messages):
            client.read_once()
        client.unbind()
    finally:
        client.disconnect()
    return got


def _text_of(pdu: SubmitSm | DataSm) -> tuple[str, tuple[int, int, int] | None]:
    """What the gateway will read from a submitted PDU: its text and (ref, total, seq)."""
    if isinstance(pdu, SubmitSm) and pdu.short_message:
        data = pdu.short_message
    else:
        payload = tlv_value(pdu.tlvs, TlvTag.MESSAGE_PAYLOAD)
        assert isinstance(payload, bytes)
        data = payload
    concat = None
    if pdu.esm_class & EsmClass.UDHI:
        udh, data = split_udh(data)
        assert udh.concat is not None
        concat = (udh.concat.ref, udh.concat.total, udh.concat.seq)
    elif (ref := tlv_value(pdu.tlvs, TlvTag.SAR_MSG_REF_NUM)) is not None:
        total = tlv_value(pdu.tlvs, TlvTag.SAR_TOTAL_SEGMENTS)
        seq = tlv_value(pdu.tlvs, TlvTag.SAR_SEGMENT_SEQNUM)
        assert isinstance(ref, int)
        assert isinstance(total, int)
        assert isinstance(seq, int)
        concat = (ref, total, seq)
    return decode_payload(data, pdu.data_coding), concat


@pytest.mark.parametrize(
    ("text", "data_coding", "wire"),
    [
        ("Your code is 1234 {ok}", 0, None),
        ("Привет, ваш код 1234", 8, None),
        ("Caf\xe9 au lait", 3, "latin-1"),
        ("plain ascii", 1, "ascii"),
    ],
)
async def test_single_part_submits_reach_the_hook(
    text: str, data_coding: int, wire: str | None
) -> None:
    if wire is None:
        (part,) = split(text, encoding="ucs2" if data_coding == 8 else "gsm7").parts
        data = part.payload
    else:
        data = text.encode(wire)
    async with running() as (server, hooks):
        got = await asyncio.to_thread(
            _smpplib_submit,
            server.port,
            "transceiver",
            [{"short_message": data, "data_coding": data_coding, "registered_delivery": 1}],
        )
        assert got == [(S.ESME_ROK, "00000001")]
        ((session, pdu),) = hooks.submits
        assert isinstance(pdu, SubmitSm)
        assert _text_of(pdu) == (text, None)
        assert pdu.registered_delivery == 1
        assert pdu.destination_addr == "491701234567"
        assert session.account_id == ACME.account_id
        assert session.can_transmit


@pytest.mark.parametrize("concat", [Concat.UDH8, Concat.SAR])
@pytest.mark.parametrize("encoding", ["gsm7", "ucs2"])
async def test_concatenated_submits_reach_the_hook_part_by_part(
    concat: Concat, encoding: str
) -> None:
    text = ("Dear customer, your parcel is on its way € " * 12).strip()
    message = split(text, encoding=encoding, concat=concat, ref=42)
    assert len(message.parts) > 1
    submits = []
    for part in message.parts:
        fields: dict[str, Any] = {
            "short_message": part.udh + part.payload,
            "data_coding": 8 if encoding == "ucs2" else 0,
        }
        if concat is Concat.UDH8:
            fields["esm_class"] = smpplib.consts.SMPP_GSMFEAT_UDHI
        else:
            fields |= {
                "sar_msg_ref_num": part.ref,
                "sar_total_segments": part.total,
                "sar_segment_seqnum": part.seq,
            }
        submits.append(fields)
    async with running() as (server, hooks):
        got = await asyncio.to_thread(_smpplib_submit, server.port, "transmitter", submits)
        assert [s for s, _ in got] == [S.ESME_ROK] * len(submits)
        assert len({m for _, m in got}) == len(submits)  # one id per part, from the hook
        seen = [_text_of(pdu) for _, pdu in hooks.submits]
        assert "".join(t for t, _ in seen) == text
        assert [c for _, c in seen] == [(42, len(submits), i) for i in range(1, len(submits) + 1)]


async def test_message_payload_submit_and_data_sm() -> None:
    text = "A long notice in one PDU. " * 20
    payload = text.encode("ascii")
    async with running() as (server, hooks):
        client = await RawClient.connect(server.port)
        assert await client.bind("transmitter") == S.ESME_ROK
        resp = await client.submit(
            b"", tlvs=(Tlv.octets(TlvTag.MESSAGE_PAYLOAD, payload),), data_coding=1
        )
        assert (resp.command_status, resp.message_id) == (S.ESME_ROK, "00000001")
        data_resp = await client.request(
            DataSm(
                sequence_number=client.seq(),
                source_addr="Shop",
                destination_addr="491701234567",
                data_coding=1,
                tlvs=(Tlv.octets(TlvTag.MESSAGE_PAYLOAD, payload),),
            )
        )
        assert isinstance(data_resp, DataSmResp)
        assert (data_resp.command_status, data_resp.message_id) == (S.ESME_ROK, "00000002")
        assert [_text_of(pdu)[0] for _, pdu in hooks.submits] == [text, text]
        assert isinstance(hooks.submits[1][1], DataSm)
        await client.close()


async def test_smpplib_message_payload_submit() -> None:
    text = "Message payload from smpplib"
    async with running() as (server, hooks):
        got = await asyncio.to_thread(
            _smpplib_submit, server.port, "transceiver", [{"message_payload": text.encode()}]
        )
        assert got == [(S.ESME_ROK, "00000001")]
        assert _text_of(hooks.submits[0][1]) == (text, None)


async def test_throttling_above_the_account_rate_skips_the_hook() -> None:
    async with running() as (server, hooks):
        got = await asyncio.to_thread(
            _smpplib_submit,
            server.port,
            "transceiver",
            [{"short_message": b"burst %d" % i} for i in range(4)],
            system_id="slow",
            password="pw",
        )
        assert [s for s, _ in got] == [S.ESME_ROK] + [S.ESME_RTHROTTLED] * 3
        ((session, pdu),) = hooks.submits
        assert session.account_id == SLOW.account_id
        assert pdu.short_message == b"burst 0"


async def test_the_rate_is_shared_by_the_sessions_of_an_account() -> None:
    async with running() as (server, hooks):
        a, b = await RawClient.connect(server.port), await RawClient.connect(server.port)
        assert await a.bind(system_id="slow", password="pw") == S.ESME_ROK
        assert await b.bind(system_id="slow", password="pw") == S.ESME_ROK
        statuses = [(await c.submit()).command_status for c in (a, b, a, b)]
        assert statuses == [S.ESME_ROK] + [S.ESME_RTHROTTLED] * 3
        assert len(hooks.submits) == 1
        other = await RawClient.connect(server.port)  # other accounts are not affected
        assert await other.bind(system_id="other", password="pw2") == S.ESME_ROK
        assert (await other.submit()).command_status == S.ESME_ROK
        for c in (a, b, other):
            await c.close()


async def test_a_receiver_may_not_submit() -> None:
    # smpplib refuses this locally, so the raw client sends it.
    async with running() as (server, hooks):
        client = await RawClient.connect(server.port)
        assert await client.bind("receiver") == S.ESME_ROK
        assert (await client.submit()).command_status == S.ESME_RINVBNDSTS
        assert hooks.submits == []
        await client.close()


async def test_submit_before_bind_is_refused() -> None:
    async with running() as (server, hooks):
        client = await RawClient.connect(server.port)
        resp = await client.submit()
        assert resp.command_status == S.ESME_RINVBNDSTS
        assert hooks.submits == []
        await client.close()


async def test_hook_failures_become_status_codes(caplog: pytest.LogCaptureFixture) -> None:
    class Failing(StaticHooks):
        async def submit(self, session: SessionInfo, pdu: SubmitSm | DataSm) -> SubmitResult:
            if isinstance(pdu, SubmitSm) and pdu.short_message == b"refuse":
                return SubmitResult(status=S.ESME_RINVDSTADR)
            raise ValueError(f"cannot store {pdu.destination_addr}")

    hooks = Failing({"acme": ("secret", ACME)})
    async with running(hooks) as (server, _):
        client = await RawClient.connect(server.port)
        assert await client.bind() == S.ESME_ROK
        refused = await client.submit(b"refuse")
        assert (refused.command_status, refused.message_id) == (S.ESME_RINVDSTADR, "")
        broken = await client.submit(b"boom")
        assert broken.command_status == S.ESME_RSYSERR
        assert (await client.submit(b"refuse")).command_status == S.ESME_RINVDSTADR
        await client.close()
    assert "ValueError" in caplog.text
    assert "491701234567" not in caplog.text


async def test_query_cancel_replace_reach_the_hooks() -> None:
    async with running() as (server, hooks):
        client = await RawClient.connect(server.port)
        assert await client.bind() == S.ESME_ROK
        message_id = (await client.submit()).message_id
        query = await client.request(QuerySm(sequence_number=client.seq(), message_id=message_id))
        assert isinstance(query, QuerySmResp)
        assert query.command_status == S.ESME_ROK
        assert (query.message_id, query.message_state) == (message_id, MessageState.ENROUTE)
        unknown = await client.request(QuerySm(sequence_number=client.seq(), message_id="zz"))
        assert unknown.command_status == S.ESME_RINVMSGID
        replace = await client.request(
            ReplaceSm(sequence_number=client.seq(), message_id=message_id, short_message=b"new")
        )
        assert replace.command_status == S.ESME_ROK
        cancel = await client.request(CancelSm(sequence_number=client.seq(), message_id=message_id))
        assert cancel.command_status == S.ESME_ROK
        again = await client.request(CancelSm(sequence_number=client.seq(), message_id=message_id))
        assert again.command_status == S.ESME_RCANCELFAIL
        replace2 = await client.request(
            ReplaceSm(sequence_number=client.seq(), message_id=message_id, short_message=b"x")
        )
        assert replace2.command_status == S.ESME_RREPLACEFAIL
        assert [q.message_id for q in hooks.queries] == [message_id, "zz"]
        assert [c.message_id for c in hooks.cancels] == [message_id, message_id]
        assert hooks.replaces[0].short_message == b"new"
        await client.close()


async def test_smpplib_query_sm_gets_the_final_date_and_state() -> None:
    class Delivered(StaticHooks):
        async def query(self, session: SessionInfo, pdu: QuerySm) -> QueryResult | int:
            return QueryResult(
                message_state=MessageState.DELIVERED, final_date="250102030405000+", error_code=0
            )

    def run(port: int) -> Any:
        seen: list[Any] = []
        client = smpplib_client(port)
        try:
            client.bind_transceiver(system_id="acme", password="secret")
            client.set_query_resp_handler(seen.append)
            client.query_message(message_id="00000001", source_addr_ton=5, source_addr_npi=0,
                                 source_addr="Shop")  # fmt: skip
            while not seen:
                client.read_once()
            client.unbind()
        finally:
            client.disconnect()
        return seen[0]

    async with running(Delivered({"acme": ("secret", ACME)})) as (server, _):
        resp = await asyncio.to_thread(run, server.port)
        assert int(resp.message_state) == MessageState.DELIVERED
        assert resp.final_date in (b"250102030405000+", "250102030405000+")


async def test_a_message_id_that_cannot_be_encoded_is_a_system_error() -> None:
    class LongIds(StaticHooks):
        async def submit(self, session: SessionInfo, pdu: SubmitSm | DataSm) -> SubmitResult:
            return SubmitResult(status=S.ESME_ROK, message_id="x" * 65)  # §4.4.2: max 64

    async with running(LongIds({"acme": ("secret", ACME)})) as (server, _):
        client = await RawClient.connect(server.port)
        assert await client.bind() == S.ESME_ROK
        assert (await client.submit()).command_status == S.ESME_RSYSERR
        assert (await client.submit()).command_status == S.ESME_RSYSERR  # session still fine
        await client.close()


async def test_query_hook_failure_is_a_system_error() -> None:
    class Broken(StaticHooks):
        async def query(self, session: SessionInfo, pdu: QuerySm) -> QueryResult | int:
            raise RuntimeError("database down")

    async with running(Broken({"acme": ("secret", ACME)})) as (server, _):
        client = await RawClient.connect(server.port)
        assert await client.bind() == S.ESME_ROK
        resp = await client.request(QuerySm(sequence_number=client.seq(), message_id="1"))
        assert resp.command_status == S.ESME_RSYSERR
        await client.close()

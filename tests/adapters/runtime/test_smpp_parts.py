"""Messages an SMPP customer concatenated itself (UDH or SAR parts), through SmppIngress and
the dispatcher over a real SQLite store, on a controlled clock: the account's part limit,
impossible part numbers, and a group whose parts never all arrive."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from smsgate.adapters.smpp_server.ingress import PART_HOLD_S, SmppIngress, SubmitRefused
from smsgate.domain.routing import Route
from smsgate.smpp.constants import CommandStatus, EsmClass, TlvTag
from smsgate.smpp.pdu import SubmitSm
from smsgate.smpp.tlv import Tlv

from .rig import Rig, ScriptedConnector, rig_maker

S = CommandStatus
TO = "359888123456"


SIM = ScriptedConnector("sim")


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    SIM.seen.clear()
    async with rig_maker(tmp_path, handoff=True) as make:
        yield await make({"sim": SIM}, [Route(connectors=("sim",))])


def _ingress(rig: Rig) -> SmppIngress:
    return SmppIngress(rig.store, rig.clock, rig.messages)


def _udh_part(seq: int, total: int, *, ref: int = 0x42, sixteen: bool = False) -> SubmitSm:
    udh = bytes([6, 8, 4, 0, ref, total, seq]) if sixteen else bytes([5, 0, 3, ref, total, seq])
    return SubmitSm(
        sequence_number=seq,
        source_addr="ACME",
        source_addr_ton=5,
        destination_addr=TO,
        dest_addr_ton=1,
        esm_class=EsmClass.UDHI,
        short_message=udh + f"part {seq} ".encode(),
    )


def _sar_part(seq: int | None, total: int | None, ref: int | None = 0x1234) -> SubmitSm:
    values = {
        TlvTag.SAR_MSG_REF_NUM: ref,
        TlvTag.SAR_TOTAL_SEGMENTS: total,
        TlvTag.SAR_SEGMENT_SEQNUM: seq,
    }
    tlvs = tuple(Tlv.int(tag, v) for tag, v in values.items() if v is not None)
    return SubmitSm(
        sequence_number=1,
        source_addr="ACME",
        source_addr_ton=5,
        destination_addr=TO,
        dest_addr_ton=1,
        short_message=f"part {seq} ".encode(),
        tlvs=tlvs,
    )


async def _refused(ingress: SmppIngress, rig: Rig, pdu: SubmitSm) -> CommandStatus:
    with pytest.raises(SubmitRefused) as refused:
        await ingress.submit(rig.account, pdu)
    return refused.value.status


async def _stored(rig: Rig) -> int:
    return len(await rig.store.list_messages(rig.account.id, limit=100))


@pytest.mark.parametrize("how", ["udh8", "udh16", "sar"])
async def test_parts_of_a_message_above_the_part_limit_are_refused(rig: Rig, how: str) -> None:
    assert rig.account.max_parts == 10
    ingress = _ingress(rig)

    def part(seq: int, total: int) -> SubmitSm:
        return (
            _sar_part(seq, total) if how == "sar" else _udh_part(seq, total, sixteen=how == "udh16")
        )

    for seq in (1, 2, 11):  # every part of an 11-part message: its total says so
        assert await _refused(ingress, rig, part(seq, 11)) == S.ESME_RINVMSGLEN
    assert await _refused(ingress, rig, part(1, 255)) == S.ESME_RINVMSGLEN  # "part 1 of 255"
    assert await _stored(rig) == 0
    # At the limit, the message is accepted and goes out whole.
    ids = [await ingress.submit(rig.account, part(seq, 10)) for seq in range(1, 11)]
    message_id = ids[0].rsplit(".", 1)[0]
    assert await rig.wait_status(message_id, "sent") == "sent"
    message = await rig.store.get_message(message_id)
    assert message is not None
    assert message.text == "".join(f"part {seq} " for seq in range(1, 11))


@pytest.mark.parametrize(
    ("pdu", "status"),
    [
        (_udh_part(0, 3), S.ESME_RINVESMCLASS),  # part 0
        (_udh_part(4, 3), S.ESME_RINVESMCLASS),  # part above the total
        (_udh_part(1, 0), S.ESME_RINVESMCLASS),  # total 0
        (_udh_part(0, 3, sixteen=True), S.ESME_RINVESMCLASS),
        (_sar_part(0, 3), S.ESME_RINVOPTPARAMVAL),
        (_sar_part(4, 3), S.ESME_RINVOPTPARAMVAL),
        (_sar_part(1, 0), S.ESME_RINVOPTPARAMVAL),
        (_sar_part(None, 3), S.ESME_RINVOPTPARAMVAL),  # an incomplete SAR set
        (_sar_part(1, 3, ref=None), S.ESME_RINVOPTPARAMVAL),
    ],
    ids=[
        "udh-part-0",
        "udh-part-above-total",
        "udh-total-0",
        "udh16-part-0",
        "sar-part-0",
        "sar-part-above-total",
        "sar-total-0",
        "sar-no-seqnum",
        "sar-no-ref",
    ],
)
async def test_impossible_part_numbers_are_refused(
    rig: Rig, pdu: SubmitSm, status: CommandStatus
) -> None:
    assert await _refused(_ingress(rig), rig, pdu) == status
    assert await _stored(rig) == 0


async def test_a_message_payload_above_the_part_limit_is_refused(rig: Rig) -> None:
    pdu = SubmitSm(
        sequence_number=1,
        source_addr="ACME",
        source_addr_ton=5,
        destination_addr=TO,
        dest_addr_ton=1,
        tlvs=(Tlv.octets(TlvTag.MESSAGE_PAYLOAD, b"x" * (153 * 10 + 1)),),  # 11 GSM-7 parts
    )
    assert await _refused(_ingress(rig), rig, pdu) == S.ESME_RINVMSGLEN
    assert await _stored(rig) == 0


async def test_a_short_message_above_the_part_limit_is_refused(rig: Rig) -> None:
    one_part = replace(rig.account, max_parts=1)
    pdu = SubmitSm(
        sequence_number=1,
        source_addr="ACME",
        source_addr_ton=5,
        destination_addr=TO,
        dest_addr_ton=1,
        data_coding=8,
        short_message="Ж".encode("utf-16-be") * 127,  # 127 UCS-2 units: 2 parts
    )
    with pytest.raises(SubmitRefused) as refused:
        await _ingress(rig).submit(one_part, pdu)
    assert refused.value.status == S.ESME_RINVMSGLEN
    assert await _stored(rig) == 0


async def test_a_group_that_stays_incomplete_fails_and_nothing_of_it_is_sent(rig: Rig) -> None:
    ingress = _ingress(rig)
    first = await ingress.submit(rig.account, _udh_part(1, 3))
    rig.clock.t += PART_HOLD_S / 2
    third = await ingress.submit(rig.account, _udh_part(3, 3))  # part 2 never comes
    message_id = first.rsplit(".", 1)[0]
    assert third == f"{message_id}.3"
    await rig.dispatcher_settled()
    assert await rig.status_of(message_id) == "queued"  # held, waiting for part 2
    rig.clock.t += PART_HOLD_S / 2  # the group's deadline: PART_HOLD_S after its first part
    assert await rig.wait_status(message_id, "failed", "sent", "sending") == "failed"
    await rig.dispatcher_settled()
    message = await rig.store.get_message(message_id)
    assert message is not None
    assert message.error_code == "incomplete_concatenation"
    assert message.error_message == "only 2 of the 3 parts of the concatenated message arrived"
    parts = await rig.store.get_parts(message_id)
    assert [(p.seq, p.status, p.error_code) for p in parts] == [
        (1, "failed", "incomplete_concatenation"),
        (3, "failed", "incomplete_concatenation"),
    ]
    assert SIM.seen == []  # nothing of it reached the SMSC
    # A late part 2 does not revive the failed message: it starts a group of its own.
    late = await ingress.submit(rig.account, _udh_part(2, 3))
    assert late.rsplit(".", 1)[0] != message_id
    assert await rig.status_of(message_id) == "failed"


async def test_a_part_sent_again_after_its_answer_was_lost_gets_the_same_answer(rig: Rig) -> None:
    # Each part, and the whole group, committed by a process whose answers never reached the
    # client (a crash): a new process (a new SmppIngress) sees the same parts again.
    first = await _ingress(rig).submit(rig.account, _udh_part(1, 2))
    second = await _ingress(rig).submit(rig.account, _udh_part(2, 2))
    message_id = first.rsplit(".", 1)[0]
    assert second == f"{message_id}.2"
    again = _ingress(rig)
    assert await again.submit(rig.account, _udh_part(2, 2)) == second
    assert await again.submit(rig.account, _udh_part(1, 2)) == first
    assert await _stored(rig) == 1
    assert await rig.wait_status(message_id, "sent") == "sent"
    # The same reference used again for another text starts a message of its own.
    other = replace(_udh_part(1, 2), short_message=bytes([5, 0, 3, 0x42, 2, 1]) + b"other")
    assert (await again.submit(rig.account, other)).rsplit(".", 1)[0] != message_id


async def test_parts_that_arrive_together_are_one_message(rig: Rig) -> None:
    # A window of submits: the parts are in the ingress at the same time, each looking for
    # its group in the store before the first one has started it.
    ingress = _ingress(rig)
    ids = await asyncio.gather(*(ingress.submit(rig.account, _udh_part(s, 3)) for s in (1, 2, 3)))
    assert len({i.rsplit(".", 1)[0] for i in ids}) == 1
    assert await _stored(rig) == 1
    assert await rig.wait_status(ids[0].rsplit(".", 1)[0], "sent") == "sent"

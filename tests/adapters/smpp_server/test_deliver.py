"""deliver_sm from the gateway to a bound ESME through SessionInfo.deliver: receipts reach
smpplib's handler, the deliver_sm_resp status comes back, the window holds, and a session
that is not there (any more) raises SessionGone."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from smsgate.adapters.smpp_server import SessionGone, SessionInfo
from smsgate.smpp.constants import CommandStatus, EsmClass, MessageState
from smsgate.smpp.pdu import DeliverSm, EnquireLink, EnquireLinkResp, GenericNack, Unbind
from smsgate.smpp.receipt import parse_receipt
from tests.adapters.smpp_server.helpers import (
    WAIT,
    RawClient,
    receipt,
    running,
    smpplib_client,
    wait_for,
)

S = CommandStatus


def _smpplib_receive(port: int, answers: list[int]) -> list[Any]:
    """Bind as receiver; answer each deliver_sm with the next status from `answers`."""
    received: list[Any] = []

    def handler(pdu: Any, **_: Any) -> int:
        received.append(pdu)
        return answers[len(received) - 1]

    client = smpplib_client(port)
    try:
        client.bind_receiver(system_id="acme", password="secret")
        client.set_message_received_handler(handler)
        while len(received) < len(answers):
            client.read_once()
    finally:
        client.disconnect()
    return received


async def test_receipts_reach_smpplib_and_the_status_comes_back() -> None:
    async with running() as (server, hooks):
        reader = asyncio.create_task(
            asyncio.to_thread(_smpplib_receive, server.port, [S.ESME_ROK, S.ESME_RX_T_APPN])
        )
        await wait_for(lambda: len(hooks.bound) == 1, hooks.changed)
        (session,) = server.sessions
        assert session is hooks.bound[0]
        assert session.can_receive
        assert await session.deliver(receipt("0000000a")) == S.ESME_ROK
        assert await session.deliver(receipt("0000000b")) == S.ESME_RX_T_APPN
        received = await asyncio.wait_for(reader, WAIT)
        first = received[0]
        assert int(first.esm_class) == EsmClass.DELIVERY_RECEIPT
        parsed = parse_receipt(first.short_message)
        assert parsed is not None
        assert (parsed.id, parsed.stat) == ("0000000a", "DELIVRD")
        assert first.receipted_message_id in (b"0000000a", "0000000a")
        assert int(first.message_state) == MessageState.DELIVERED
        assert received[0].sequence != received[1].sequence


async def test_the_outbound_window_is_respected() -> None:
    async with running(window=2) as (server, _hooks):
        client = await RawClient.connect(server.port)
        assert await client.bind("receiver") == S.ESME_ROK
        (session,) = server.sessions
        tasks = [asyncio.create_task(session.deliver(receipt(f"{i:08x}"))) for i in range(3)]
        first, second = await client.recv(), await client.recv()
        assert isinstance(first, DeliverSm)
        assert isinstance(second, DeliverSm)
        # The third waits for a slot: a round trip shows nothing else was written before it.
        assert isinstance(await client.request(EnquireLink(sequence_number=99)), EnquireLinkResp)
        assert not any(t.done() for t in tasks)
        client.send(first.make_resp(command_status=S.ESME_RX_P_APPN))
        third = await client.recv()
        assert isinstance(third, DeliverSm)
        assert third.sequence_number not in (first.sequence_number, second.sequence_number)
        client.send(second.make_resp(), third.make_resp())
        assert await asyncio.gather(*tasks) == [S.ESME_RX_P_APPN, S.ESME_ROK, S.ESME_ROK]
        await client.close()


async def test_a_generic_nack_answers_a_deliver() -> None:
    async with running() as (server, _hooks):
        client = await RawClient.connect(server.port)
        assert await client.bind("transceiver") == S.ESME_ROK
        (session,) = server.sessions
        task = asyncio.create_task(session.deliver(receipt()))
        pdu = await client.recv()
        assert isinstance(pdu, DeliverSm)
        client.send(GenericNack(sequence_number=pdu.sequence_number, command_status=S.ESME_RSYSERR))
        assert await task == S.ESME_RSYSERR
        await client.close()


async def test_an_unanswered_deliver_times_out_and_frees_its_slot() -> None:
    async with running(window=1, response_timeout=0.1) as (server, _hooks):
        client = await RawClient.connect(server.port)
        assert await client.bind("receiver") == S.ESME_ROK
        (session,) = server.sessions
        task = asyncio.create_task(session.deliver(receipt()))
        assert isinstance(await client.recv(), DeliverSm)  # and never answered
        with pytest.raises(SessionGone) as info:
            await task
        assert info.value.reason == "timeout"
        task = asyncio.create_task(session.deliver(receipt()))
        pdu = await client.recv()
        assert isinstance(pdu, DeliverSm)
        client.send(pdu.make_resp())
        assert await task == S.ESME_ROK
        await client.close()


async def test_deliver_to_a_transmitter_is_refused() -> None:
    async with running() as (server, _hooks):
        client = await RawClient.connect(server.port)
        assert await client.bind("transmitter") == S.ESME_ROK
        (session,) = server.sessions
        assert not session.can_receive
        with pytest.raises(SessionGone) as info:
            await session.deliver(receipt())
        assert info.value.reason == "not_receiver"
        await client.close()


async def test_deliver_to_a_closed_session_raises_session_gone() -> None:
    async with running() as (server, hooks):
        client = await RawClient.connect(server.port)
        assert await client.bind("receiver") == S.ESME_ROK
        (session,) = server.sessions
        waiting = asyncio.create_task(session.deliver(receipt()))
        assert isinstance(await client.recv(), DeliverSm)
        await client.close()
        await asyncio.wait_for(session.wait_closed(), WAIT)
        with pytest.raises(SessionGone) as info:
            await waiting  # was in flight when the connection dropped
        assert info.value.reason == "closed"
        with pytest.raises(SessionGone):
            await session.deliver(receipt())
        assert not session.is_open
        assert hooks.closed == [session]


async def test_deliver_after_the_client_unbound_raises_session_gone() -> None:
    async with running() as (server, hooks):
        client = await RawClient.connect(server.port)
        assert await client.bind("transceiver") == S.ESME_ROK
        (session,) = server.sessions
        assert (await client.request(Unbind(sequence_number=5))).command_status == S.ESME_ROK
        await wait_for(lambda: session in hooks.closed, hooks.changed)
        with pytest.raises(SessionGone):
            await session.deliver(receipt())
        await client.close()


async def test_session_info_is_read_only_and_hashable() -> None:
    async with running() as (server, hooks):
        client = await RawClient.connect(server.port)
        assert await client.bind("receiver") == S.ESME_ROK
        (session,) = server.sessions
        assert isinstance(session, SessionInfo)
        with pytest.raises(AttributeError):
            session.bind_type = "transmitter"  # type: ignore[misc]
        assert {session: 1}[hooks.bound[0]] == 1
        assert "secret" not in repr(session)
        await client.close()


async def test_cancelled_deliveries_give_their_window_slot_back() -> None:
    async with running(window=1) as (server, _hooks):
        client = await RawClient.connect(server.port)
        assert await client.bind("receiver") == S.ESME_ROK
        (session,) = server.sessions
        in_flight = asyncio.create_task(session.deliver(receipt("00000001")))
        first = await client.recv()
        assert isinstance(first, DeliverSm)
        queued = asyncio.create_task(session.deliver(receipt("00000002")))
        behind = asyncio.create_task(session.deliver(receipt("00000003")))
        # the queued one gives up while waiting for a slot, the sent one while awaiting
        # its answer: the slot must go to `behind`.
        queued.cancel()
        in_flight.cancel()
        with pytest.raises(asyncio.CancelledError):
            await in_flight
        third = await client.recv()
        assert isinstance(third, DeliverSm)
        assert b"id:00000003" in third.short_message
        client.send(first.make_resp(), third.make_resp())  # the late answer is ignored
        assert await behind == S.ESME_ROK
        assert queued.cancelled()
        await client.close()

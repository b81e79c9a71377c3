"""The SMSC simulator on its own: the independent `smpplib` client (blocking, in a thread),
raw PDUs through the pure `smsgate.smpp.Connection`, and the HTTP control API."""

from __future__ import annotations

import asyncio
import struct
from typing import Any

import httpx
import pytest
import smpplib.client
import smpplib.consts
import smpplib.exceptions

from smsgate.simulators.smsc import SimulatorError, SmscSimulator, SmscSimulatorConfig
from smsgate.smpp.codec import HEADER, decode, encode
from smsgate.smpp.connection import CLOSED, NEED_DATA, Connection
from smsgate.smpp.constants import CommandId, CommandStatus, MessageState, TlvTag
from smsgate.smpp.pdu import (
    BindTransceiver,
    DataSm,
    GenericNack,
    Pdu,
    QuerySm,
    SubmitSm,
)
from smsgate.smpp.states import Role
from smsgate.smpp.tlv import Tlv, tlv_value

WAIT = 10.0


def _client(port: int) -> smpplib.client.Client:
    client = smpplib.client.Client("127.0.0.1", port, timeout=WAIT, allow_unknown_opt_params=True)
    client.connect()
    return client


def _submit_and_wait_receipt(port: int) -> dict[str, Any]:
    """Blocking smpplib session: bind, submit, read the resp and the receipt, query, unbind."""
    seen: dict[str, Any] = {}

    def keep(key: str) -> Any:
        def handler(pdu: Any) -> None:  # smpplib answers with what a handler returns
            seen.setdefault(key, pdu)

        return handler

    client = _client(port)
    try:
        client.bind_transceiver(system_id="shop", password="pw")
        client.set_message_sent_handler(keep("resp"))
        client.set_message_received_handler(keep("receipt"))
        client.set_query_resp_handler(keep("query"))
        client.send_message(
            source_addr_ton=5,
            source_addr="Shop",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr="491701234567",
            short_message=b"Your order shipped",
            registered_delivery=1,
        )
        while "receipt" not in seen:
            client.read_once()
        client.query_message(
            message_id=seen["resp"].message_id.decode(),
            source_addr_ton=5,
            source_addr_npi=0,
            source_addr="Shop",
        )
        while "query" not in seen:
            client.read_once()
        client.unbind()
    finally:
        client.disconnect()
    return seen


async def test_smpplib_client_submits_and_gets_a_receipt() -> None:
    cfg = SmscSimulatorConfig(receipt_delay=0.01, seed=1)
    async with SmscSimulator(cfg) as sim:
        seen = await asyncio.wait_for(asyncio.to_thread(_submit_and_wait_receipt, sim.port), WAIT)
    message_id = seen["resp"].message_id.decode()
    receipt = seen["receipt"]
    assert message_id == sim.submitted[0].message_id
    assert receipt.esm_class == 0x04
    assert receipt.receipted_message_id.rstrip(b"\0").decode() == message_id
    assert receipt.message_state == MessageState.DELIVERED
    text = receipt.short_message.decode()
    assert text.startswith(f"id:{message_id} sub:001 dlvrd:001 ")
    assert "stat:DELIVRD" in text
    assert receipt.destination_addr.decode() == "Shop"
    assert seen["query"].message_state == MessageState.DELIVERED
    assert sim.submitted[0].short_message == b"Your order shipped"
    assert sim.unbinds == 1


def _bind_with(port: int, password: str) -> int:
    client = _client(port)
    try:
        client.bind_transmitter(system_id="shop", password=password)
    except smpplib.exceptions.PDUError as exc:
        return int(exc.args[1])
    finally:
        client.disconnect()
    return 0


async def test_bind_is_checked_when_credentials_are_configured() -> None:
    cfg = SmscSimulatorConfig(system_id="shop", password="right")
    async with SmscSimulator(cfg) as sim:
        assert await asyncio.to_thread(_bind_with, sim.port, "wrong") == 0x0E  # ESME_RINVPASWD
        assert await asyncio.to_thread(_bind_with, sim.port, "right") == 0
    assert sim.binds == 1


def _transmit_then_receive(port: int) -> bytes:
    sender = _client(port)
    try:
        sender.bind_transmitter(system_id="shop", password="x")
        sender.set_message_sent_handler(lambda pdu: None)
        sender.send_message(
            source_addr="Shop", destination_addr="491701234567", short_message=b"hi",
            registered_delivery=1,
        )  # fmt: skip
        sender.read_once()
    finally:
        sender.disconnect()
    receiver = _client(port)
    got: list[bytes] = []
    try:
        receiver.bind_receiver(system_id="shop", password="x")
        receiver.set_message_received_handler(lambda pdu: got.append(pdu.short_message) or None)
        while not got:
            receiver.read_once()
    finally:
        receiver.disconnect()
    return got[0]


async def test_receipt_waits_until_a_receiver_binds() -> None:
    async with SmscSimulator(SmscSimulatorConfig(receipt_delay=0.0)) as sim:
        text = await asyncio.wait_for(asyncio.to_thread(_transmit_then_receive, sim.port), WAIT)
    assert text.startswith(f"id:{sim.submitted[0].message_id} ".encode())


class RawEsme:
    """A bare ESME on asyncio streams using the pure Connection (and raw bytes for garbage)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.conn = Connection(Role.ESME)

    async def send(self, pdu: Pdu) -> None:
        self.writer.write(self.conn.send(pdu))
        await self.writer.drain()

    async def receive(self) -> Pdu | None:
        while True:
            event = self.conn.next_event()
            if event is CLOSED:
                return None
            if event is not NEED_DATA:
                return event
            self.conn.receive_data(await self.reader.read(65536))

    async def bind(self) -> None:
        await self.send(BindTransceiver(sequence_number=self.conn.next_sequence(), system_id="s"))
        resp = await self.receive()
        assert resp is not None
        assert resp.command_status == 0


async def _raw(port: int) -> RawEsme:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    return RawEsme(reader, writer)


async def _frame(reader: asyncio.StreamReader) -> Pdu:
    head = await reader.readexactly(4)
    (length,) = struct.unpack(">I", head)
    return decode(head + await reader.readexactly(length - 4))


async def test_garbage_gets_generic_nack_and_wrong_state_gets_invbndsts() -> None:
    async with SmscSimulator() as sim:
        reader, writer = await asyncio.open_connection("127.0.0.1", sim.port)
        writer.write(encode(SubmitSm(sequence_number=7, destination_addr="4917000")))  # unbound
        writer.write(HEADER.pack(16, 0x0000_0999, 0, 8))  # unknown command_id
        resp = await _frame(reader)
        assert resp.command_id is CommandId.SUBMIT_SM_RESP
        assert resp.sequence_number == 7
        assert resp.command_status == CommandStatus.ESME_RINVBNDSTS
        nack = await _frame(reader)
        assert isinstance(nack, GenericNack)
        assert nack.sequence_number == 8
        assert nack.command_status == CommandStatus.ESME_RINVCMDID
        writer.write(struct.pack(">I", 8) + b"\0" * 12)  # command_length below 16: fatal
        last = await _frame(reader)
        assert isinstance(last, GenericNack)
        assert last.command_status == CommandStatus.ESME_RINVCMDLEN
        assert await reader.read() == b""  # and the SMSC closed the connection
        writer.close()
        await writer.wait_closed()
    assert sim.violations == 3


async def test_data_sm_and_query_sm() -> None:
    async with SmscSimulator(SmscSimulatorConfig(receipt_delay=0.0)) as sim:
        esme = await _raw(sim.port)
        await esme.bind()
        payload = Tlv.octets(TlvTag.MESSAGE_PAYLOAD, b"data sm text")
        await esme.send(
            DataSm(
                sequence_number=esme.conn.next_sequence(), destination_addr="491701234567",
                registered_delivery=1, tlvs=(payload,),
            )
        )  # fmt: skip
        resp = await esme.receive()
        assert resp is not None
        assert resp.command_id is CommandId.DATA_SM_RESP
        message_id = resp.message_id  # type: ignore[union-attr]
        receipt = await esme.receive()
        assert receipt is not None
        assert receipt.command_id is CommandId.DELIVER_SM
        tlvs = receipt.tlvs  # type: ignore[union-attr]
        assert tlv_value(tlvs, TlvTag.RECEIPTED_MESSAGE_ID) == message_id
        await esme.send(receipt.make_resp())  # type: ignore[union-attr]
        await sim.wait_until(lambda: len(sim.receipts_sent) == 1)
        await esme.send(QuerySm(sequence_number=esme.conn.next_sequence(), message_id=message_id))
        query = await esme.receive()
        assert query is not None
        assert query.message_state == MessageState.DELIVERED
        await esme.send(QuerySm(sequence_number=esme.conn.next_sequence(), message_id="zz"))
        unknown = await esme.receive()
        assert unknown is not None
        assert unknown.command_status == CommandStatus.ESME_RQUERYFAIL
        esme.writer.close()
    assert sim.submitted[0].short_message == b"data sm text"


async def test_inject_mo_without_a_receiver_raises() -> None:
    async with SmscSimulator() as sim:
        with pytest.raises(SimulatorError):
            await sim.inject_mo("4917012345", "12345", "hello")


async def test_control_api() -> None:
    async with SmscSimulator(control_port=0) as sim:
        assert sim.control_url is not None
        async with httpx.AsyncClient(base_url=sim.control_url, timeout=WAIT) as http:
            mo = {"from": "4917012345", "to": "12345", "text": "hello"}
            assert (await http.post("/mo", json=mo)).status_code == 409  # nobody bound
            assert (await http.post("/mo", content=b"{nope")).status_code == 400
            assert (await http.post("/mo", json={"from": "1"})).status_code == 400
            bad_concat = {**mo, "concat": "zip"}
            assert (await http.post("/mo", json=bad_concat)).status_code == 400
            esme = await _raw(sim.port)
            await esme.bind()
            answer = asyncio.create_task(_answer_delivers(esme, 3))
            long_text = {**mo, "text": "y" * 400, "shuffle": True}
            response = await http.post("/mo", json=long_text)
            assert response.status_code == 200
            assert response.json() == {"parts": 3}
            assert len(await answer) == 3
            stats = (await http.get("/stats")).json()
            assert stats["connections"] == 1
            assert stats["bound"] == 1
            esme.writer.close()


async def _answer_delivers(esme: RawEsme, count: int) -> list[Pdu]:
    got: list[Pdu] = []
    while len(got) < count:
        pdu = await esme.receive()
        assert pdu is not None
        got.append(pdu)
        await esme.send(pdu.make_resp())  # type: ignore[union-attr]
    return got

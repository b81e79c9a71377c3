"""SmppConnector facing a misbehaving SMSC (a raw server written with the codec) and load."""

from __future__ import annotations

import asyncio
import struct

from smsgate.services.ports import OutcomeKind
from smsgate.simulators.smsc import SmscSimulator, SmscSimulatorConfig
from smsgate.smpp.codec import HEADER, decode, encode
from smsgate.smpp.constants import CommandStatus, EsmClass
from smsgate.smpp.pdu import BindTransceiver, DeliverSm, GenericNack, Pdu

from .conftest import WAIT, RecordingEvents, part, running


async def _frame(reader: asyncio.StreamReader) -> Pdu:
    head = await reader.readexactly(4)
    (length,) = struct.unpack(">I", head)
    return decode(head + await reader.readexactly(length - 4))


async def test_garbage_from_the_smsc_gets_nacks_and_a_bad_frame_a_reconnect() -> None:
    sessions: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await sessions.put((reader, writer))

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    events = RecordingEvents()
    async with server, running(port, events, wait_up=False):
        reader, writer = await asyncio.wait_for(sessions.get(), WAIT)
        bind = await _frame(reader)
        assert isinstance(bind, BindTransceiver)
        assert bind.system_id == "gateway"
        writer.write(encode(bind.make_resp(system_id="raw")))
        writer.write(HEADER.pack(16, 0x0000_0999, 0, 41))  # unknown command_id
        nack = await asyncio.wait_for(_frame(reader), WAIT)
        assert isinstance(nack, GenericNack)
        assert (nack.sequence_number, nack.command_status) == (41, CommandStatus.ESME_RINVCMDID)
        bad_udh = DeliverSm(
            sequence_number=42, source_addr="4917012345", esm_class=EsmClass.UDHI,
            short_message=b"\x09\x00\x03",  # UDHL runs past the end
        )  # fmt: skip
        writer.write(encode(bad_udh))
        resp = await asyncio.wait_for(_frame(reader), WAIT)
        assert (resp.sequence_number, resp.command_status) == (42, CommandStatus.ESME_RX_P_APPN)
        assert events.inbound == []
        writer.write(struct.pack(">II", 8, 0))  # command_length 8: the stream is unusable
        tail = await asyncio.wait_for(reader.read(), WAIT)  # everything until the connector closes
        assert tail == HEADER.pack(16, 0x8000_0000, CommandStatus.ESME_RINVCMDLEN, 0)
        writer.close()
        again, writer2 = await asyncio.wait_for(sessions.get(), WAIT)  # it reconnects
        assert isinstance(await _frame(again), BindTransceiver)
        writer2.close()
    assert events.links[:2] == [True, False]


async def test_thousands_of_pending_receipts() -> None:
    events = RecordingEvents()
    cfg = SmscSimulatorConfig(receipt_delay=0.2)
    count = 3000
    async with SmscSimulator(cfg) as sim, running(sim.port, events, window=50) as connector:
        outcomes = await asyncio.gather(*(connector.submit(part(n)) for n in range(count)))
        assert sim.stats()["receipts_pending"] > 0
        await events.wait_until(lambda: len(events.receipts) == count)
    assert all(o.kind is OutcomeKind.OK for o in outcomes)
    assert {r.smsc_id for r in events.receipts} == {o.smsc_id for o in outcomes}
    assert sim.stats()["receipts_pending"] == 0

"""SmppConnector against an SMSC we did not write: the `smpp34` package's server (Rust core).

smpp34's Server takes a port but does not report the one it bound, so we pick a free port
first (bind to 0, read it, close) and retry a few times if another process takes it.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import smpp34

from smsgate.domain.states import Status
from smsgate.services.ports import OutcomeKind
from smsgate.smpp.constants import TlvTag

from .conftest import WAIT, RecordingEvents, part, running


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def smpp34_server() -> AsyncIterator[tuple[smpp34.Server, int]]:
    for _ in range(5):
        port = _free_port()
        server = smpp34.Server("127.0.0.1", port)
        try:
            await server.start()
        except Exception:  # the port was taken in between: pick another
            continue
        try:
            yield server, port
        finally:
            await server.stop()
        return
    raise RuntimeError("no free port for the smpp34 server")


class ReceiptingSmsc:
    """Drives the smpp34 server: accepts every submit_sm with a decimal id, then sends a
    standard delivery receipt for it over the same session (in a task of its own)."""

    def __init__(self, server: smpp34.Server) -> None:
        self.server = server
        self.esmes: dict[str, smpp34.Esme] = {}
        self.submits: list[smpp34.SubmitSmEvent] = []
        self.issued: list[str] = []
        self.deliver_statuses: list[int] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        while True:
            event = await self.server.next()
            if isinstance(event, smpp34.Esme):
                self.esmes[event.session_id] = event
            elif isinstance(event, smpp34.SubmitSmEvent):
                message_id = str(900_000 + len(self.issued))
                self.submits.append(event)
                self.issued.append(message_id)
                event.accept(message_id)
                task = asyncio.create_task(self._receipt(event, message_id))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _receipt(self, event: smpp34.SubmitSmEvent, message_id: str) -> None:
        text = (
            f"id:{message_id} sub:001 dlvrd:001 submit date:2611220700 "
            f"done date:2611220701 stat:DELIVRD err:000 text:"
        )
        resp = await self.esmes[event.session_id].deliver_sm(
            event.source_addr,
            text.encode(),
            source_addr=event.destination_addr,
            esm_class=0x04,
            tlvs=[
                smpp34.Tlv(smpp34.TLV_RECEIPTED_MESSAGE_ID, message_id.encode() + b"\0"),
                smpp34.Tlv(smpp34.TLV_MESSAGE_STATE, bytes([2])),
            ],
        )
        self.deliver_statuses.append(resp.command_status)

    async def receipts_answered(self) -> None:
        """Wait until every receipt sent so far got its deliver_sm_resp."""
        await asyncio.gather(*self._tasks)


async def test_connector_against_the_smpp34_server() -> None:
    events = RecordingEvents()
    async with smpp34_server() as (server, port):
        smsc = ReceiptingSmsc(server)
        driver = asyncio.create_task(smsc.run())
        try:
            async with running(port, events, window=5) as connector:
                parts = [part(n, destination=f"4917000{n:05d}") for n in range(12)]
                sar = part(99, sar=(5, 2, 1))
                outcomes = await asyncio.gather(*(connector.submit(p) for p in [*parts, sar]))
                await events.wait_until(lambda: len(events.receipts) == len(outcomes))
                await asyncio.wait_for(smsc.receipts_answered(), WAIT)
        finally:
            driver.cancel()
            with suppress(asyncio.CancelledError):
                await driver
    assert all(o.kind is OutcomeKind.OK for o in outcomes)
    ids = [o.smsc_id for o in outcomes]
    assert sorted(ids) == sorted(smsc.issued)  # type: ignore[type-var]
    assert sorted(r.smsc_id for r in events.receipts) == sorted(smsc.issued)
    assert {(r.reported, r.status) for r in events.receipts} == {("DELIVRD", Status.DELIVERED)}
    assert smsc.deliver_statuses == [0] * len(outcomes)
    by_destination = {s.destination_addr: s for s in smsc.submits}
    for p in parts:
        seen = by_destination[p.destination]
        assert (seen.short_message, seen.source_addr) == (p.short_message, "Shop")
        assert (seen.source_addr_ton, seen.registered_delivery) == (5, 1)
    sar_tlvs = {t.tag: t.as_int() for t in by_destination[sar.destination].tlvs}
    assert sar_tlvs[TlvTag.SAR_MSG_REF_NUM] == 5
    assert sar_tlvs[TlvTag.SAR_TOTAL_SEGMENTS] == 2
    assert sar_tlvs[TlvTag.SAR_SEGMENT_SEQNUM] == 1

"""Concurrency and lifecycle: pipelined submits overlap in the hook, inbound backpressure,
the client's unbind with a submit in flight, and the graceful stop seen by smpplib."""

from __future__ import annotations

import asyncio
import threading

import smpplib.exceptions

from smsgate.adapters.smpp_server import SessionInfo, StaticHooks, SubmitResult
from smsgate.smpp.constants import CommandStatus
from smsgate.smpp.pdu import DataSm, DeliverSm, SubmitSm, SubmitSmResp, Unbind, UnbindResp
from tests.adapters.smpp_server.helpers import (
    ACME,
    WAIT,
    RawClient,
    receipt,
    running,
    smpplib_client,
    wait_for,
)

S = CommandStatus


class GroupCommitHooks(StaticHooks):
    """Like a gateway that commits every submit of one loop iteration together; records
    how many submits were in the hook at once."""

    def __init__(self) -> None:
        super().__init__({"acme": ("secret", ACME)})
        self.in_hook = 0
        self.max_in_hook = 0
        self._batch: list[asyncio.Future[None]] = []

    async def submit(self, session: SessionInfo, pdu: SubmitSm | DataSm) -> SubmitResult:
        self.in_hook += 1
        self.max_in_hook = max(self.max_in_hook, self.in_hook)
        try:
            done = asyncio.get_running_loop().create_future()
            if not self._batch:
                asyncio.get_running_loop().call_soon(self._commit)
            self._batch.append(done)
            await done
            return await super().submit(session, pdu)
        finally:
            self.in_hook -= 1

    def _commit(self) -> None:
        batch, self._batch = self._batch, []
        for done in batch:
            done.set_result(None)


class HeldHooks(StaticHooks):
    """Submits wait until `release` is set; `entered` counts the calls that started."""

    def __init__(self) -> None:
        super().__init__({"acme": ("secret", ACME)})
        self.release = asyncio.Event()
        self.entered = 0
        self.in_hook = 0
        self.max_in_hook = 0

    async def submit(self, session: SessionInfo, pdu: SubmitSm | DataSm) -> SubmitResult:
        self.entered += 1
        self.in_hook += 1
        self.max_in_hook = max(self.max_in_hook, self.in_hook)
        self.changed.set()
        try:
            await self.release.wait()
            return await super().submit(session, pdu)
        finally:
            self.in_hook -= 1


async def test_pipelined_submits_overlap_in_the_hook() -> None:
    total, window = 1_000, 100
    hooks = GroupCommitHooks()
    async with running(hooks) as (server, _):
        client = await RawClient.connect(server.port)
        assert await client.bind("transmitter") == S.ESME_ROK
        sent = answered = 0
        ids: set[str] = set()
        while answered < total:
            while sent < total and sent - answered < window:
                client.send(SubmitSm(sequence_number=client.seq(), destination_addr="4917",
                                     short_message=b"pipelined %d" % sent))  # fmt: skip
                sent += 1
            resp = await client.recv()
            assert isinstance(resp, SubmitSmResp)
            assert resp.command_status == S.ESME_ROK
            ids.add(resp.message_id)
            answered += 1
        assert len(ids) == total
        assert len(hooks.submits) == total
        assert 1 < hooks.max_in_hook <= window
        await client.close()


async def test_reading_stops_at_max_inbound_window() -> None:
    hooks = HeldHooks()
    async with running(hooks, max_inbound_window=10) as (server, _):
        client = await RawClient.connect(server.port)
        assert await client.bind("transmitter") == S.ESME_ROK
        client.send(*(SubmitSm(sequence_number=client.seq(), short_message=b"%d" % i)
                      for i in range(50)))  # fmt: skip
        await wait_for(lambda: hooks.entered == 10, hooks.changed)
        (session,) = server.connections
        await wait_for(lambda: session.reading_paused, session.flow_changed)
        assert hooks.entered == 10  # nothing more is read while 10 are in processing
        hooks.release.set()
        answers = [await client.recv() for _ in range(50)]
        assert all(isinstance(a, SubmitSmResp) and a.command_status == 0 for a in answers)
        assert hooks.max_in_hook == 10
        await client.close()


async def test_client_unbind_answers_the_submit_in_flight_first() -> None:
    hooks = HeldHooks()
    async with running(hooks) as (server, _):
        client = await RawClient.connect(server.port)
        assert await client.bind() == S.ESME_ROK
        client.send(SubmitSm(sequence_number=10, short_message=b"in flight"))
        await wait_for(lambda: hooks.entered == 1, hooks.changed)
        client.send(Unbind(sequence_number=11))
        await wait_for(lambda: len(hooks.closed) == 1, hooks.changed)  # no more deliveries
        hooks.release.set()
        first, second = await client.recv(), await client.recv()
        assert isinstance(first, SubmitSmResp)
        assert (first.sequence_number, first.command_status) == (10, S.ESME_ROK)
        assert isinstance(second, UnbindResp)
        assert second.sequence_number == 11
        assert await client.closed_by_server()


def _smpplib_through_stop(port: int, submitted: threading.Event) -> list[tuple[str, int]]:
    """Bind, submit once, then read every PDU until the server closes the connection."""
    seen: list[tuple[str, int]] = []
    client = smpplib_client(port)
    try:
        client.bind_transceiver(system_id="acme", password="secret")
        client.send_message(source_addr="Shop", destination_addr="491701234567",
                            short_message=b"in flight at shutdown")  # fmt: skip
        submitted.set()
        while True:
            try:
                pdu = client.read_pdu()
            except smpplib.exceptions.ConnectionError:
                break
            seen.append((pdu.command, int(pdu.status)))
    finally:
        client.disconnect()
    return seen


async def test_graceful_stop_unbinds_and_answers_the_submit_in_flight() -> None:
    hooks = HeldHooks()
    async with running(hooks, unbind_timeout=0.2) as (server, _):
        submitted = threading.Event()
        reader = asyncio.create_task(
            asyncio.to_thread(_smpplib_through_stop, server.port, submitted)
        )
        await wait_for(lambda: hooks.entered == 1, hooks.changed)
        stopping = asyncio.create_task(server.stop(timeout=WAIT))
        await wait_for(lambda: len(hooks.closed) == 1, hooks.changed)  # unbind was sent
        hooks.release.set()
        await asyncio.wait_for(stopping, WAIT)
        seen = await asyncio.wait_for(reader, WAIT)
        # smpplib never answers unbind: the server waited unbind_timeout, then closed.
        assert seen == [("unbind", 0), ("submit_sm_resp", 0)]
        assert len(hooks.submits) == 1
        assert server.connection_count == 0


async def test_stop_waits_for_the_unbind_resp_and_in_flight_deliveries() -> None:
    async with running(unbind_timeout=WAIT) as (server, hooks):
        client = await RawClient.connect(server.port)
        assert await client.bind("receiver") == S.ESME_ROK
        (session,) = server.sessions
        delivery = asyncio.create_task(session.deliver(receipt()))
        deliver_sm = await client.recv()
        stopping = asyncio.create_task(server.stop(timeout=WAIT))
        unbind = await client.recv()
        assert isinstance(unbind, Unbind)
        assert not stopping.done()
        assert isinstance(deliver_sm, DeliverSm)
        client.send(deliver_sm.make_resp(), unbind.make_resp())
        assert await asyncio.wait_for(delivery, WAIT) == S.ESME_ROK
        await asyncio.wait_for(stopping, WAIT)
        assert await client.closed_by_server()
        assert hooks.closed == [session]


async def test_new_connections_are_refused_once_stopping() -> None:
    async with running() as (server, _hooks):
        port = server.port
        await server.stop(timeout=WAIT)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return  # refused at the socket: fine
        assert await reader.read() == b""
        writer.close()

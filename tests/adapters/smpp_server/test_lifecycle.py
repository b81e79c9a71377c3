"""Concurrency and lifecycle: pipelined submits overlap in the hook, inbound backpressure,
the client's unbind with a submit in flight, and the graceful stop seen by smpplib."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
import threading
from pathlib import Path

import pytest
import smpplib.client
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


async def test_half_close_after_a_submit_still_gets_the_answer() -> None:
    hooks = HeldHooks()
    async with running(hooks) as (server, _):
        client = await RawClient.connect(server.port)
        assert await client.bind() == S.ESME_ROK
        client.send(SubmitSm(sequence_number=7, short_message=b"then EOF"))
        client.writer.write_eof()
        await wait_for(lambda: hooks.entered == 1, hooks.changed)
        hooks.release.set()
        resp = await client.recv()
        assert isinstance(resp, SubmitSmResp)
        assert (resp.sequence_number, resp.command_status) == (7, S.ESME_ROK)
        assert await client.closed_by_server()


async def test_failing_session_hooks_do_not_break_the_session(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Noisy(StaticHooks):
        def session_bound(self, session: SessionInfo) -> None:
            raise RuntimeError("bound")

        def session_closed(self, session: SessionInfo) -> None:
            super().session_closed(session)
            raise RuntimeError("closed")

    hooks = Noisy({"acme": ("secret", ACME)})
    async with running(hooks) as (server, _):
        client = await RawClient.connect(server.port)
        assert await client.bind() == S.ESME_ROK
        assert (await client.submit()).command_status == S.ESME_ROK
        await client.close()
        await wait_for(lambda: len(hooks.closed) == 1, hooks.changed)
    assert caplog.text.count("RuntimeError") == 2


def _self_signed(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
async def test_tls_listener_with_smpplib(tmp_path: Path) -> None:
    cert, key = await asyncio.to_thread(_self_signed, tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    client_ctx.check_hostname = False

    def run(port: int) -> list[int]:
        got: list[int] = []
        client = smpplib.client.Client("127.0.0.1", port, timeout=WAIT, ssl_context=client_ctx,
                                       allow_unknown_opt_params=True)  # fmt: skip
        client.connect()
        try:
            client.bind_transceiver(system_id="acme", password="secret")
            client.set_message_sent_handler(lambda pdu, **_: got.append(int(pdu.status)))
            client.send_message(destination_addr="491701234567", short_message=b"over TLS")
            client.read_once()
            client.unbind()
        finally:
            client.disconnect()
        return got

    async with running(tls=server_ctx) as (server, hooks):
        assert await asyncio.to_thread(run, server.port) == [S.ESME_ROK]
        assert hooks.submits[0][1].short_message == b"over TLS"

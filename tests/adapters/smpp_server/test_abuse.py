"""Abuse on one connection never hurts another: garbage, truncated and oversized frames, an
HTTP request, broken PDUs up to the budget, a flood of enquire_links, a client that never
reads. After each, a second, well-behaved session still submits."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from smsgate.adapters.smpp_server import SmppServer
from smsgate.smpp.codec import encode
from smsgate.smpp.constants import CommandId, CommandStatus
from smsgate.smpp.pdu import (
    DeliverSm,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    SubmitSm,
    SubmitSmResp,
)
from tests.adapters.smpp_server.helpers import (
    WAIT,
    RawClient,
    running,
    wait_for,
    well_behaved_submit,
)

S = CommandStatus


@asynccontextmanager
async def abuse_setup(**config: Any) -> AsyncIterator[tuple[SmppServer, RawClient, RawClient]]:
    """A server, a bound well-behaved client, and a connected (unbound) abuser."""
    async with running(**config) as (server, _hooks):
        good = await RawClient.connect(server.port)
        assert await good.bind("transceiver") == S.ESME_ROK
        await well_behaved_submit(good)
        bad = await RawClient.connect(server.port)
        try:
            yield server, good, bad
        finally:
            await good.close()
            await bad.close()


HEADER = struct.Struct(">IIII")  # command_length, command_id, command_status, sequence_number


def frame(command_id: int, body: bytes = b"", seq: int = 1, length: int | None = None) -> bytes:
    size = 16 + len(body) if length is None else length
    return HEADER.pack(size, command_id, 0, seq) + body


async def test_garbage_with_an_absurd_length_is_nacked_and_closed() -> None:
    async with abuse_setup() as (_server, good, bad):
        bad.send_bytes(b"\xde\xad\xbe\xef" * 8)
        nack = await bad.recv()
        assert isinstance(nack, GenericNack)
        assert nack.command_status == S.ESME_RINVCMDLEN
        assert await bad.closed_by_server()
        await well_behaved_submit(good)


async def test_an_unknown_command_id_is_nacked_and_the_session_lives_on() -> None:
    async with abuse_setup() as (_server, good, bad):
        bad.send_bytes(frame(0x00000077, b"junk", seq=5))
        nack = await bad.recv()
        assert isinstance(nack, GenericNack)
        assert (nack.sequence_number, nack.command_status) == (5, S.ESME_RINVCMDID)
        assert isinstance(await bad.request(EnquireLink(sequence_number=6)), EnquireLinkResp)
        await well_behaved_submit(good)


async def test_a_truncated_frame_then_eof_closes() -> None:
    async with abuse_setup() as (server, good, bad):
        assert await bad.bind() == S.ESME_ROK
        data = encode(SubmitSm(sequence_number=9, destination_addr="49170", short_message=b"x"))
        bad.send_bytes(data[: len(data) // 2])
        bad.writer.write_eof()
        assert await bad.closed_by_server()
        assert len(server.connections) <= 2
        await well_behaved_submit(good)


async def test_a_frame_shorter_than_its_body_is_answered_and_counted() -> None:
    async with abuse_setup(max_bad_pdus=2) as (_server, good, bad):
        assert await bad.bind() == S.ESME_ROK
        short = frame(CommandId.SUBMIT_SM, b"\0\0\0abc", seq=3)  # ends inside source_addr
        bad.send_bytes(short)
        resp = await bad.recv()
        assert isinstance(resp, SubmitSmResp | GenericNack)
        assert resp.sequence_number == 3
        assert resp.command_status == S.ESME_RINVCMDLEN
        bad.send_bytes(short)
        assert (await bad.recv()) is not None  # answered, and that was the budget
        assert await bad.closed_by_server()
        await well_behaved_submit(good)


async def test_an_oversized_frame_closes_the_connection() -> None:
    async with abuse_setup(max_frame_size=4096) as (_server, good, bad):
        bad.send_bytes(frame(CommandId.SUBMIT_SM, length=4097) + b"\0" * 64)
        nack = await bad.recv()
        assert isinstance(nack, GenericNack)
        assert nack.command_status == S.ESME_RINVCMDLEN
        assert await bad.closed_by_server()
        await well_behaved_submit(good)


async def test_a_command_length_below_16_closes_the_connection() -> None:
    async with abuse_setup() as (_server, good, bad):
        bad.send_bytes(struct.pack(">I", 8) + b"\0" * 20)
        assert await bad.closed_by_server()
        await well_behaved_submit(good)


async def test_an_http_request_on_the_smpp_port() -> None:
    async with abuse_setup() as (server, good, bad):
        bad.send_bytes(b"GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: curl/8\r\n\r\n")
        assert await bad.closed_by_server()
        await well_behaved_submit(good)
        assert server.connection_count == 1


async def test_broken_pdus_up_to_the_budget_then_close() -> None:
    async with abuse_setup(max_bad_pdus=4) as (_server, good, bad):
        # Each kind counts: unknown command, request before bind, a command the ESME never
        # sends, a malformed body. The session survives the first three.
        bad.send_bytes(frame(0x00000077, seq=1))
        assert (await bad.recv()) == GenericNack(sequence_number=1, command_status=S.ESME_RINVCMDID)
        refused = await bad.submit()
        assert refused.command_status == S.ESME_RINVBNDSTS
        bad.send(DeliverSm(sequence_number=3))
        assert (await bad.recv()) == GenericNack(sequence_number=3, command_status=S.ESME_RINVCMDID)
        assert isinstance(await bad.request(EnquireLink(sequence_number=4)), EnquireLinkResp)
        await well_behaved_submit(good)
        bad.send_bytes(frame(CommandId.ENQUIRE_LINK, b"extra", seq=5))  # enquire_link has no body
        answer = await bad.recv()
        assert answer is not None
        assert answer.command_status == S.ESME_RINVCMDLEN
        assert await bad.closed_by_server()
        await well_behaved_submit(good)


async def test_stray_responses_are_ignored_not_counted() -> None:
    async with abuse_setup(max_bad_pdus=1) as (_server, good, bad):
        assert await bad.bind() == S.ESME_ROK
        bad.send(*(SubmitSmResp(sequence_number=i, message_id="x") for i in range(1, 20)))
        assert isinstance(await bad.request(EnquireLink(sequence_number=50)), EnquireLinkResp)
        await well_behaved_submit(good)


async def test_a_flood_of_enquire_links_is_answered_and_others_keep_working() -> None:
    flood = 10_000
    async with abuse_setup() as (_server, good, bad):
        assert await bad.bind() == S.ESME_ROK
        bad.send(*(EnquireLink(sequence_number=i) for i in range(1, flood + 1)))

        async def read_flood() -> int:
            answered = 0
            while answered < flood:
                pdu = await bad.recv()
                if pdu is None:
                    break
                assert isinstance(pdu, EnquireLinkResp)
                answered += 1
            return answered

        reader = asyncio.create_task(read_flood())
        for _ in range(5):  # interleaved with the flood
            await well_behaved_submit(good)
        assert await asyncio.wait_for(reader, WAIT) == flood
        await well_behaved_submit(good)


async def test_a_client_that_never_reads_is_not_buffered_without_bound() -> None:
    high = 64 * 1024
    async with abuse_setup(write_buffer_high=high, write_buffer_low=16 * 1024) as (
        server,
        good,
        bad,
    ):
        assert await bad.bind() == S.ESME_ROK
        (abuser,) = [c for c in server.connections if c.info is not None and c.peer[1] == (
            bad.writer.get_extra_info("sockname")[1])]  # fmt: skip
        # enquire_links whose answers it never reads: the kernel buffers fill (shrunk here
        # so a few MB suffice), then our write buffer passes the high-water mark and we stop
        # reading its requests.
        sock = bad.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        # The server's own send buffer too: else the kernel takes megabytes of answers first,
        # which under coverage tracing takes longer than the test's bound to produce.
        assert abuser.transport is not None
        server_sock = abuser.transport.get_extra_info("socket")
        server_sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        chunk = encode(EnquireLink(sequence_number=1)) * 10_000
        for _ in range(40):
            bad.send_bytes(chunk)
        await wait_for(lambda: abuser.writing_paused and abuser.reading_paused, abuser.flow_changed)
        assert abuser.write_buffer_size < high + 256 * 16 + 16  # one batch past the mark
        await well_behaved_submit(good)
        bad.writer.transport.abort()
        await asyncio.wait_for(abuser.closed, WAIT)
        await well_behaved_submit(good)

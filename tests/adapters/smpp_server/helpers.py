"""Shared pieces of the SMPP server tests: accounts, a running server, two independent
clients (the blocking `smpplib` package in a thread, and a minimal raw-socket client that
frames bytes itself and decodes with our codec, so it can also send broken input)."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import smpplib.client
import smpplib.exceptions

from smsgate.adapters.smpp_server import (
    BoundAccount,
    ServerHooks,
    SmppServer,
    SmppServerConfig,
    StaticHooks,
)
from smsgate.smpp.codec import decode, encode
from smsgate.smpp.constants import CommandStatus, EsmClass, MessageState, TlvTag
from smsgate.smpp.pdu import (
    BindReceiver,
    BindTransceiver,
    BindTransmitter,
    DeliverSm,
    Pdu,
    SubmitSm,
    SubmitSmResp,
)
from smsgate.smpp.receipt import Receipt, format_receipt
from smsgate.smpp.tlv import Tlv

WAIT = 10.0  # upper bound for anything awaited in a test; never a sleep

ACME = BoundAccount(account_id="acc-acme", system_id="acme", max_binds=4)
# One submit per 100 s: a burst of one, then throttled for the whole test whatever its speed.
SLOW = BoundAccount(account_id="acc-slow", system_id="slow", submit_rate_per_s=0.01)
OTHER = BoundAccount(account_id="acc-other", system_id="other")


def static_hooks() -> StaticHooks:
    return StaticHooks({"acme": ("secret", ACME), "slow": ("pw", SLOW), "other": ("pw2", OTHER)})


def server_config(**fields: Any) -> SmppServerConfig:
    values: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "response_timeout": 5.0}
    values.update(fields)
    return SmppServerConfig(**values)


@asynccontextmanager
async def running(
    hooks: ServerHooks | None = None, **config: Any
) -> AsyncIterator[tuple[SmppServer, Any]]:
    """A started server on a free port and its hooks; stopped on exit."""
    hooks = hooks if hooks is not None else static_hooks()
    server = SmppServer(server_config(**config), hooks)
    async with server:
        yield server, hooks


async def wait_for(predicate: Callable[[], bool], event: asyncio.Event) -> None:
    """Wait until `predicate()` holds, re-checking whenever `event` is set."""
    async with asyncio.timeout(WAIT):
        while not predicate():
            event.clear()
            await event.wait()


def receipt(message_id: str = "00000001") -> DeliverSm:
    text = format_receipt(
        Receipt(id=message_id, submit_date="2501020304", done_date="2501020305", stat="DELIVRD")
    )
    return DeliverSm(
        sequence_number=0,  # the session assigns it
        source_addr="491701234567",
        destination_addr="Shop",
        esm_class=EsmClass.DELIVERY_RECEIPT,
        short_message=text.encode("ascii"),
        tlvs=(
            Tlv.cstr(TlvTag.RECEIPTED_MESSAGE_ID, message_id),
            Tlv.int(TlvTag.MESSAGE_STATE, MessageState.DELIVERED),
        ),
    )


# --- smpplib (blocking: call these through asyncio.to_thread) -------------------------------


def smpplib_client(port: int) -> smpplib.client.Client:
    client = smpplib.client.Client("127.0.0.1", port, timeout=WAIT, allow_unknown_opt_params=True)
    client.connect()
    return client


def smpplib_bind_status(port: int, kind: str, system_id: str, password: str) -> int:
    """Bind with smpplib; the bind_*_resp command_status (the client is closed after)."""
    client = smpplib_client(port)
    try:
        getattr(client, f"bind_{kind}")(system_id=system_id, password=password)
        return 0
    except smpplib.exceptions.PDUError as exc:
        return int(exc.args[1])
    finally:
        client.disconnect()


# --- raw client ----------------------------------------------------------------------------

_LEN = struct.Struct(">I")


class RawClient:
    """An ESME over asyncio streams that writes whatever bytes it is told to."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._seq = 0

    @classmethod
    async def connect(cls, port: int, source: str | None = None) -> RawClient:
        """Connect to 127.0.0.1:port, from the loopback address `source` if given (Linux
        routes all of 127/8 over lo, so 127.0.0.2 is another client address)."""
        local = None if source is None else (source, 0)
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=local)
        return cls(reader, writer)

    def seq(self) -> int:
        self._seq += 1
        return self._seq

    def send(self, *pdus: Pdu) -> None:
        self.writer.write(b"".join(encode(p) for p in pdus))

    def send_bytes(self, data: bytes) -> None:
        self.writer.write(data)

    async def recv(self) -> Pdu | None:
        """The next PDU from the server, None at EOF."""
        async with asyncio.timeout(WAIT):
            try:
                head = await self.reader.readexactly(4)
                (length,) = _LEN.unpack(head)
                body = await self.reader.readexactly(length - 4)
            except (asyncio.IncompleteReadError, ConnectionError):
                self.writer.close()
                return None
        return decode(head + body)

    async def request(self, pdu: Pdu) -> Pdu:
        """Send `pdu` and return the PDU answering it (anything else is skipped)."""
        self.send(pdu)
        while True:
            got = await self.recv()
            assert got is not None, "connection closed before the answer"
            if got.sequence_number == pdu.sequence_number and got.command_id.is_response:
                return got

    async def bind(
        self, kind: str = "transceiver", system_id: str = "acme", password: str = "secret"
    ) -> int:
        fields: dict[str, Any] = {
            "sequence_number": self.seq(),
            "system_id": system_id,
            "password": password,
        }
        pdu: Pdu = (
            BindTransmitter(**fields)
            if kind == "transmitter"
            else BindReceiver(**fields)
            if kind == "receiver"
            else BindTransceiver(**fields)
        )
        resp = await self.request(pdu)
        return resp.command_status

    async def submit(self, text: bytes = b"hello", **fields: Any) -> SubmitSmResp:
        fields.setdefault("source_addr", "Shop")
        fields.setdefault("destination_addr", "491701234567")
        pdu = SubmitSm(sequence_number=self.seq(), short_message=text, **fields)
        resp = await self.request(pdu)
        assert isinstance(resp, SubmitSmResp)
        return resp

    async def closed_by_server(self) -> bool:
        """Read (and drop) everything until EOF; True when the server closed the socket."""
        async with asyncio.timeout(WAIT):
            try:
                while await self.reader.read(65536):
                    pass
            except ConnectionError:
                pass
        await self.close()
        return True

    async def close(self) -> None:
        if self.writer.transport.get_write_buffer_size():
            self.writer.transport.abort()  # the server does not read: do not wait for it
        self.writer.close()
        with suppress(ConnectionError):
            await self.writer.wait_closed()


async def well_behaved_submit(client: RawClient) -> None:
    """The second session of the abuse tests: it can still submit."""
    resp = await client.submit(b"still working")
    assert resp.command_status == CommandStatus.ESME_ROK
    assert resp.message_id

"""An ESME (an SMPP client) for tests and benchmarks: an asyncio protocol around the sans-I/O
`smsgate.smpp.Connection`.

It answers enquire_link, deliver_sm (ESME_ROK) and unbind by itself, matches responses to
`request`s by sequence number, and records the peer's protocol violations. Everything else
goes to hooks a subclass overrides: `handle` (each PDU; call the base for the defaults),
`on_deliver_sm`, `on_unexpected` and `after_events` (once per chunk of bytes read: the place
to fill the window with pipelined submits).

    esme = await connect(lambda: EsmeProtocol(window=10), "127.0.0.1", port)
    await esme.bind("system_id", "password")
    resp = await esme.request(SubmitSm(sequence_number=esme.conn.next_sequence(), ...))
    await esme.unbind()
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TypeVar, cast

from smsgate.smpp import (
    CLOSED,
    NEED_DATA,
    BindTransceiver,
    BindTransceiverResp,
    Connection,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    Pdu,
    ProtocolViolation,
    Role,
    Unbind,
    UnbindResp,
)

WAIT_S = 30.0  # the default bound on one request's response
P = TypeVar("P", bound="EsmeProtocol")


class BindRefused(Exception):
    """The SMSC answered the bind with an error status (or not with a bind response)."""

    def __init__(self, resp: Pdu) -> None:
        super().__init__(f"bind refused: {resp!r}")
        self.resp = resp


class EsmeProtocol(asyncio.Protocol):
    """One TCP connection to an SMSC (the gateway, the simulator): bytes in → Connection →
    `handle`; `request` for anything answered by sequence number."""

    def __init__(self, *, window: int = 10) -> None:
        self.conn = Connection(Role.ESME, window=window)
        self.transport: asyncio.Transport | None = None
        self.replies: dict[int, asyncio.Future[Pdu]] = {}
        self.closed: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()
        self.bound = False
        self.violations: list[str] = []  # the peer's protocol errors, as text

    # ---- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self.bound = False
        for future in self.replies.values():
            if not future.done():
                future.set_exception(ConnectionError("the SMSC closed the connection"))
        if not self.closed.done():
            self.closed.set_result(exc)

    def data_received(self, data: bytes) -> None:
        conn = self.conn
        conn.receive_data(data)
        out: list[bytes] = []
        while True:
            try:
                event = conn.next_event()
            except ProtocolViolation as exc:
                self.violations.append(f"{type(exc).__name__}: {exc}")
                if exc.fatal:
                    self.close()
                    return
                continue
            if event is NEED_DATA or event is CLOSED:
                break
            self.handle(event, out)
        self.after_events(out)
        self.write(out)

    # ---- hooks -----------------------------------------------------------------------------

    def handle(self, pdu: Pdu, out: list[bytes]) -> None:
        """One PDU from the SMSC; answers go to `out` (written after the chunk)."""
        if isinstance(pdu, DeliverSm):
            out.append(self.conn.send(DeliverSmResp(sequence_number=pdu.sequence_number)))
            self.on_deliver_sm(pdu)
        elif isinstance(pdu, EnquireLink):
            out.append(self.conn.send(EnquireLinkResp(sequence_number=pdu.sequence_number)))
        elif isinstance(pdu, Unbind):
            self.bound = False  # the SMSC is going: nothing more may be submitted
            out.append(self.conn.send(UnbindResp(sequence_number=pdu.sequence_number)))
        elif pdu.sequence_number in self.replies:
            self.replies.pop(pdu.sequence_number).set_result(pdu)
        else:
            self.on_unexpected(pdu)

    def on_deliver_sm(self, pdu: DeliverSm) -> None:
        """A deliver_sm (a receipt or a mobile-originated message), already answered."""

    def on_unexpected(self, pdu: Pdu) -> None:
        """A PDU that is no answer to a request and that `handle` does not know."""
        self.violations.append(f"unexpected {type(pdu).__name__}")

    def after_events(self, out: list[bytes]) -> None:
        """Called once per chunk read, after its PDUs were handled."""

    # ---- sending ---------------------------------------------------------------------------

    def write(self, out: list[bytes]) -> None:
        if out and self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(out))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    async def request(self, pdu: Pdu, seconds: float = WAIT_S) -> Pdu:
        """Send `pdu` and wait (at most `seconds`) for the PDU with its sequence number."""
        future: asyncio.Future[Pdu] = asyncio.get_running_loop().create_future()
        self.replies[pdu.sequence_number] = future
        self.write([self.conn.send(pdu)])
        async with asyncio.timeout(seconds):
            return await future

    async def bind(self, system_id: str, password: str, seconds: float = WAIT_S) -> None:
        """bind_transceiver; raises BindRefused unless the answer is ESME_ROK."""
        pdu = BindTransceiver(
            sequence_number=self.conn.next_sequence(), system_id=system_id, password=password
        )
        resp = await self.request(pdu, seconds)
        if not isinstance(resp, BindTransceiverResp) or resp.command_status != 0:
            raise BindRefused(resp)
        self.bound = True

    async def unbind(self, seconds: float = 5.0) -> None:
        """Unbind (a lost connection or a late answer is no error here), then close and wait
        for the connection to end."""
        with contextlib.suppress(TimeoutError, ConnectionError):
            resp = await self.request(Unbind(sequence_number=self.conn.next_sequence()), seconds)
            if not isinstance(resp, UnbindResp):
                self.violations.append(f"unbind answered with {type(resp).__name__}")
        self.bound = False
        self.close()
        await self.closed


async def connect(
    factory: Callable[[], P], host: str, port: int, *, local_addr: tuple[str, int] | None = None
) -> P:
    """Open a TCP connection with the protocol `factory` makes; the protocol."""
    loop = asyncio.get_running_loop()
    _transport, protocol = await loop.create_connection(factory, host, port, local_addr=local_addr)
    return protocol

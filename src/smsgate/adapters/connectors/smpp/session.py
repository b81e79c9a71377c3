"""One TCP connection to an SMSC: a thin `asyncio.Protocol` around `smsgate.smpp.Connection`.

The pure connection decodes, checks the session state table and encodes; this class owns what
needs a clock or a socket (STYLE.md rule 1): the response timers, the enquire_link keepalive,
write batching (everything produced in one loop iteration goes out in one `write`), flow
control, and closing. What to do with the PDUs is the owner's business (`SessionOwner`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol, cast

from smsgate.smpp.codec import encode
from smsgate.smpp.connection import CLOSED, NEED_DATA, Connection
from smsgate.smpp.constants import CommandStatus
from smsgate.smpp.errors import ProtocolViolation, SmppError
from smsgate.smpp.pdu import (
    DataSm,
    DeliverSm,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    Pdu,
    Unbind,
)
from smsgate.smpp.states import Role

__all__ = ["ResponseCallback", "SessionOwner", "SmppClientSession"]

log = logging.getLogger(__name__)

ResponseCallback = Callable[[Pdu | None, str], None]
"""Called once per request: (the response, "") or (None, "timeout" | "disconnected")."""

# Above this many deliver_sm handlers in flight we stop reading: the SMSC's own window then
# holds the rest back (TCP backpressure instead of an unbounded task set).
_MAX_HANDLERS = 256


class SessionOwner(Protocol):
    """What a session reports to (the connector)."""

    def session_lost(self, session: SmppClientSession) -> None: ...

    def session_deliver(self, session: SmppClientSession, pdu: DeliverSm | DataSm) -> None: ...

    def session_writable(self, session: SmppClientSession) -> None: ...


class SmppClientSession(asyncio.Protocol):
    """An ESME session on one transport; requests are matched to responses by sequence_number."""

    def __init__(
        self,
        owner: SessionOwner,
        *,
        label: str,
        response_timeout: float,
        enquire_link_interval: float,
        window: int,
        max_frame_size: int = 65536,
    ) -> None:
        self._owner = owner
        self.label = label
        self._response_timeout = response_timeout
        self._keepalive_interval = enquire_link_interval
        self._conn = Connection(Role.ESME, window=window, max_frame_size=max_frame_size)
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._pending: dict[int, tuple[ResponseCallback, asyncio.TimerHandle]] = {}
        self._out: list[bytes] = []
        self._flush_handle: asyncio.Handle | None = None
        self._keepalive: asyncio.TimerHandle | None = None
        self._last_rx = self._loop.time()
        self._enquiring = False
        self._handlers = 0
        self._reading_paused = False
        self.writing_paused = False
        self.closed: asyncio.Future[None] = self._loop.create_future()

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses but have the same API.
        self._transport = cast(asyncio.Transport, transport)
        self._schedule_keepalive()

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self._keepalive is not None:
            self._keepalive.cancel()
        if self._flush_handle is not None:
            self._flush_handle.cancel()
        self._out.clear()
        pending, self._pending = self._pending, {}
        for callback, timer in pending.values():
            timer.cancel()
            callback(None, "disconnected")
        if not self.closed.done():
            self.closed.set_result(None)
        self._owner.session_lost(self)

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._owner.session_writable(self)

    def data_received(self, data: bytes) -> None:
        self._last_rx = self._loop.time()
        try:
            self._conn.receive_data(data)
        except SmppError:
            self.abort("undecodable stream")
            return
        while self._transport is not None:
            try:
                event = self._conn.next_event()
            except ProtocolViolation as exc:
                self._on_violation(exc)
                continue
            if event is NEED_DATA:
                break
            if event is CLOSED:
                self.close()
                break
            self._dispatch(event)
        # What the events made us write (responses, the submits a freed window let go) leaves
        # now, in one write, not a loop pass later: the window turns over at the SMSC's pace.
        self.flush()

    # -- sending ---------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._transport is not None and not self._transport.is_closing()

    @property
    def window_available(self) -> int:
        return self._conn.window_available

    @property
    def outstanding(self) -> int:
        return len(self._pending)

    def next_sequence(self) -> int:
        return self._conn.next_sequence()

    def request(self, pdu: Pdu, callback: ResponseCallback) -> bool:
        """Send a request; `callback` gets its response or a failure. False if not open.

        Raises the pure connection's LocalProtocolError / PduEncodeError / WindowFull.
        """
        if not self.is_open:
            return False
        self._write(self._conn.send(pdu))
        seq = pdu.sequence_number
        timer = self._loop.call_later(self._response_timeout, self._expire, seq)
        self._pending[seq] = (callback, timer)
        return True

    def respond(self, pdu: Pdu) -> None:
        """Send a response (dropped when the connection is gone: the SMSC will redeliver)."""
        if self.is_open:
            try:
                self._write(self._conn.send(pdu))
            except SmppError:
                log.warning("%s: cannot send %s now", self.label, type(pdu).__name__)

    def handler_started(self) -> None:
        self._handlers += 1
        if self._handlers >= _MAX_HANDLERS and self._transport and not self._reading_paused:
            self._reading_paused = True
            self._transport.pause_reading()

    def handler_finished(self) -> None:
        self._handlers -= 1
        if self._reading_paused and self._handlers < _MAX_HANDLERS // 2 and self._transport:
            self._reading_paused = False
            self._transport.resume_reading()

    async def unbind(self, wait: float) -> None:
        """Send unbind and wait (at most `wait` seconds) for unbind_resp, then close."""
        if self.is_open:
            done: asyncio.Future[None] = self._loop.create_future()

            def answered(_pdu: Pdu | None, _reason: str) -> None:
                if not done.done():
                    done.set_result(None)

            try:
                sent = self.request(Unbind(sequence_number=self.next_sequence()), answered)
            except SmppError:
                sent = False
            if sent:
                try:
                    await asyncio.wait_for(asyncio.shield(done), wait)
                except TimeoutError:
                    log.info("%s: no unbind_resp within %.1fs", self.label, wait)
        self.close()

    def close(self) -> None:
        if self._transport is not None:
            self._flush()
            self._transport.close()

    def abort(self, reason: str) -> None:
        log.warning("%s: closing the connection: %s", self.label, reason)
        if self._transport is not None:
            self._transport.abort()

    # -- internals -------------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        self._out.append(data)
        if self._flush_handle is None:
            self._flush_handle = self._loop.call_soon(self._flush)

    def flush(self) -> None:
        """Write what is buffered now (else it goes at the end of this loop pass)."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
        self._flush()

    def _flush(self) -> None:
        self._flush_handle = None
        if self._out and self._transport is not None:
            data = b"".join(self._out) if len(self._out) > 1 else self._out[0]
            self._out.clear()
            self._transport.write(data)

    def _expire(self, seq: int) -> None:
        entry = self._pending.pop(seq, None)
        if entry is not None:
            self._conn.forget(seq)
            entry[0](None, "timeout")

    def _dispatch(self, pdu: Pdu) -> None:
        if pdu.command_id.is_response:
            entry = self._pending.pop(pdu.sequence_number, None)
            if entry is not None:
                entry[1].cancel()
                entry[0](pdu, "")
            return
        if isinstance(pdu, DeliverSm | DataSm):
            self._owner.session_deliver(self, pdu)
        elif isinstance(pdu, EnquireLink):
            self.respond(EnquireLinkResp(sequence_number=pdu.sequence_number))
        elif isinstance(pdu, Unbind):
            # SMPP 3.4 §4.2: answer, then the SMSC closes; we close too and reconnect.
            self.respond(pdu.make_resp())
            self.close()
        else:
            self.respond(
                GenericNack(
                    sequence_number=pdu.sequence_number,
                    command_status=CommandStatus.ESME_RINVCMDID,
                )
            )

    def _on_violation(self, exc: ProtocolViolation) -> None:
        log.warning("%s: protocol violation from the SMSC (status 0x%X)", self.label, exc.status)
        if exc.fatal:
            if exc.reply is not None:  # the pure connection is CLOSED and refuses to send
                self._write(encode(exc.reply))
            self.close()
        elif exc.reply is not None:
            # Written with the codec: the state table may forbid this response in the
            # current state, yet refusing the peer's request is exactly what we do.
            self._write(encode(exc.reply))

    def _schedule_keepalive(self) -> None:
        due = self._last_rx + self._keepalive_interval
        self._keepalive = self._loop.call_at(due, self._keepalive_due)

    def _keepalive_due(self) -> None:
        if not self.is_open:
            return
        if self._loop.time() - self._last_rx >= self._keepalive_interval and not self._enquiring:
            self._enquiring = True
            try:
                self.request(EnquireLink(sequence_number=self.next_sequence()), self._enquired)
            except SmppError:
                self._enquiring = False
        due = self._last_rx + self._keepalive_interval
        if due <= self._loop.time():
            due = self._loop.time() + self._keepalive_interval
        self._keepalive = self._loop.call_at(due, self._keepalive_due)

    def _enquired(self, pdu: Pdu | None, reason: str) -> None:
        self._enquiring = False
        if pdu is None and reason == "timeout":
            self.abort("no enquire_link_resp: the link is dead")

"""One ESME connection to our SMPP server: a thin `asyncio.Protocol` around the pure
`smsgate.smpp.Connection` in the SMSC role (STYLE.md: h11 inside, uvicorn outside).

The pure connection frames, decodes, checks the state table (SMPP 3.4 §2.3) and encodes;
this class owns what needs a clock or a socket:

* timers: the bind timeout, the idle timeout, our enquire_link keepalive (timers.py) and
  the response timers of our own requests (outbound.py);
* flow control: reading stops while a bind is being authenticated, while
  `max_inbound_window` client requests are being processed, while the transport's write
  buffer is above its high-water mark (a client that does not read), and after each batch
  of `_BATCH` PDUs so that one busy session cannot starve the others on the event loop;
* writes are batched: everything produced in one loop iteration goes out in one `write`;
* the bad-PDU budget and closing, and the graceful unbind of `SmppServer.stop`.

What the commands mean is the hooks' business (hooks.py); dispatch is in handlers.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, cast

from smsgate.adapters.smpp_server.config import SmppServerConfig
from smsgate.adapters.smpp_server.errors import SessionGone
from smsgate.adapters.smpp_server.handlers import Dispatcher
from smsgate.adapters.smpp_server.hooks import BoundAccount, ServerHooks, SessionInfo
from smsgate.adapters.smpp_server.outbound import OutboundRequests
from smsgate.adapters.smpp_server.timers import SessionTimers
from smsgate.smpp.codec import encode
from smsgate.smpp.connection import CLOSED, NEED_DATA, Connection
from smsgate.smpp.constants import CommandStatus
from smsgate.smpp.errors import LocalProtocolError, PduEncodeError, ProtocolViolation, SmppError
from smsgate.smpp.pdu import DeliverSm, Pdu, Unbind, response_for
from smsgate.smpp.states import BOUND, RX, Role

__all__ = ["ServerSession", "SessionHost"]

log = logging.getLogger("smsgate.smpp_server")

_BATCH = 256  # PDUs handled per loop iteration before yielding to other sessions


class SessionHost(Protocol):
    """What a session needs from its server (registry, shared limits, hooks)."""

    config: SmppServerConfig
    hooks: ServerHooks

    def session_opened(self, session: ServerSession) -> bool: ...

    def session_closed(self, session: ServerSession) -> None: ...

    def bind_attempt_allowed(self, ip: str) -> bool: ...

    def register_bind(self, session: ServerSession, account: BoundAccount) -> bool: ...

    def submit_allowed(self, account: BoundAccount) -> bool: ...

    def track(self, task: asyncio.Task[None]) -> None: ...


class ServerSession(asyncio.Protocol):
    """The SMSC side of one TCP connection. `info` is set once bound."""

    def __init__(self, host: SessionHost, session_id: str) -> None:
        cfg = host.config
        self.host = host
        self.config = cfg
        self.hooks = host.hooks
        self.session_id = session_id
        self.loop = asyncio.get_running_loop()
        self.conn = Connection(Role.SMSC, window=cfg.window, max_frame_size=cfg.max_frame_size)
        self.transport: asyncio.Transport | None = None
        self.peer: tuple[str, int] = ("?", 0)
        self.info: SessionInfo | None = None
        self.account: BoundAccount | None = None
        self.outbound = OutboundRequests(timeout=cfg.response_timeout, on_expire=self._expired)
        self.bad_pdus = 0
        self.binding = False  # a bind is being authenticated: read nothing else meanwhile
        self.unbinding = False  # the peer unbound: answer what is in flight, then close
        self.draining = False  # we unbound (server stop): requests are refused by the table
        self._closing = False
        self._on_quiet: list[Callable[[], None]] = []
        self._inflight = 0
        self._delivering = 0
        self._quiet = asyncio.Event()
        self._reported_closed = False
        self._writing_paused = False
        self._reading_paused = False
        self.flow_changed = asyncio.Event()  # set whenever reading or writing pauses or resumes
        self._out: list[bytes] = []
        self._flush_handle: asyncio.Handle | None = None
        self._process_handle: asyncio.Handle | None = None
        self.timers = SessionTimers(self)
        self.last_rx = self.last_heard = self.loop.time()
        self.closed: asyncio.Future[None] = self.loop.create_future()
        self._dispatcher = Dispatcher(self)

    @property
    def label(self) -> str:
        """For logs: session id, system_id and peer address; never secrets or numbers."""
        system_id = self.account.system_id if self.account else "-"
        return f"{self.session_id} sys={system_id!r} ip={self.peer[0]}"

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # cast, not isinstance: uvloop's transports are not asyncio.Transport subclasses.
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            self.peer = (str(peer[0]), int(peer[1]))
        if not self.host.session_opened(self):
            log.warning("%s: too many connections (overall or from this address)", self.label)
            self.transport.abort()
            return
        cfg = self.config
        self.transport.set_write_buffer_limits(high=cfg.write_buffer_high, low=cfg.write_buffer_low)
        self.timers.connected()
        log.debug("%s: connected", self.label)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.timers.cancel()
        if self._flush_handle is not None:
            self._flush_handle.cancel()
        if self._process_handle is not None:
            self._process_handle.cancel()
            self._process_handle = None
        self._out.clear()
        self.outbound.close("closed")
        self.report_closed()
        self.host.session_closed(self)
        self._quiet.set()
        if not self.closed.done():
            self.closed.set_result(None)
        log.debug("%s: connection closed", self.label)

    def data_received(self, data: bytes) -> None:
        self.last_rx = self.loop.time()
        try:
            self.conn.receive_data(data)
        except SmppError:  # bytes after our own EOF handling: the stream is over
            self.abort()
            return
        self._process()

    def eof_received(self) -> bool:
        self.conn.receive_data(b"")
        self._process()
        # Keep the socket open to answer requests still in flight (TLS cannot half-close).
        return self.transport is not None and self.config.tls is None

    def pause_writing(self) -> None:
        self._writing_paused = True  # the peer does not read: stop reading its requests
        self.flow_changed.set()
        self._set_reading(False)

    def resume_writing(self) -> None:
        self._writing_paused = False
        self.flow_changed.set()
        self.kick()

    # -- reading -----------------------------------------------------------------------------

    def _blocked(self) -> bool:
        return (
            self.binding
            or self.unbinding
            or self._closing
            or self._writing_paused
            or self._inflight >= self.config.max_inbound_window
        )

    def _process(self) -> None:
        self._process_handle = None
        conn = self.conn
        for _ in range(_BATCH):
            if self.transport is None:
                return
            if self._blocked():
                self._set_reading(False)
                return
            try:
                event = conn.next_event()
            except ProtocolViolation as exc:
                self._on_violation(exc)
                continue
            if event is NEED_DATA:
                self._set_reading(True)
                return
            if event is CLOSED:
                self.close_when_quiet()
                return
            self._dispatcher.dispatch(event)
        self._set_reading(False)  # batch used up: let other sessions run first
        self.kick()

    @property
    def closing(self) -> bool:
        """close() was called or is due once the handlers in flight finish."""
        return self._closing

    @property
    def reading_paused(self) -> bool:
        """We stopped reading this connection (backpressure, a bind, a long batch)."""
        return self._reading_paused

    @property
    def writing_paused(self) -> bool:
        """The transport's write buffer is above its high-water mark."""
        return self._writing_paused

    @property
    def write_buffer_size(self) -> int:
        """Bytes written but not yet taken by the kernel (0 when closed)."""
        return 0 if self.transport is None else self.transport.get_write_buffer_size()

    def kick(self) -> None:
        """Continue processing buffered PDUs on the next loop iteration."""
        if self._process_handle is None and self.transport is not None:
            self._process_handle = self.loop.call_soon(self._process)

    def _set_reading(self, on: bool) -> None:
        transport = self.transport
        if transport is None or transport.is_closing() or on != self._reading_paused:
            return
        self._reading_paused = not on
        self.flow_changed.set()
        if on:
            transport.resume_reading()
        else:
            transport.pause_reading()

    def _on_violation(self, exc: ProtocolViolation) -> None:
        if exc.reply is None and not exc.fatal:
            log.debug("%s: stray response ignored", self.label)  # e.g. after our timer expired
            return
        if exc.reply is not None:
            # Written with the codec: the state table may forbid e.g. a submit_sm_resp
            # before the bind, yet refusing that submit_sm is exactly what we must do.
            self.write(encode(exc.reply))
        if exc.fatal:
            log.warning("%s: unframeable input (status 0x%X), closing", self.label, exc.status)
            self.close()
            return
        if self.draining:
            return  # requests crossing our unbind are refused, not the peer's fault
        self.bad_pdus += 1
        log.info("%s: bad PDU answered with status 0x%X", self.label, exc.status)
        if self.bad_pdus >= self.config.max_bad_pdus:
            log.warning("%s: %d bad PDUs, closing", self.label, self.bad_pdus)
            self.close()

    # -- writing -----------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self.transport is None:
            return
        self._out.append(data)
        if self._flush_handle is None:
            self._flush_handle = self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_handle = None
        if self._out and self.transport is not None:
            data = b"".join(self._out) if len(self._out) > 1 else self._out[0]
            self._out.clear()
            self.transport.write(data)

    def respond(self, request: Pdu, resp: Pdu) -> None:
        """Write the response to `request` (dropped when the connection is gone)."""
        if self.transport is None:
            return
        try:
            data = self.conn.send(resp)
        except PduEncodeError:
            name = type(resp).__name__
            log.error("%s: cannot encode %s, answering ESME_RSYSERR", self.label, name)
            data = encode(response_for(request, CommandStatus.ESME_RSYSERR))
        except LocalProtocolError:
            # The stream reached EOF (state CLOSED) while we were processing; the peer may
            # still read (half-close), and a response never changes the state anyway.
            data = encode(resp)
        self.write(data)

    # -- in-flight work ------------------------------------------------------------------------

    def start(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run a handler concurrently; reading pauses at `max_inbound_window` of them."""
        self._inflight += 1
        task = self.loop.create_task(coro)
        task.add_done_callback(self._task_done)
        self.host.track(task)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._inflight -= 1
        if not task.cancelled() and task.exception() is not None:
            log.error("%s: handler failed: %s", self.label, type(task.exception()).__name__)
        self._quiet.set()
        if self._inflight == 0 and self._on_quiet:
            actions, self._on_quiet = self._on_quiet, []
            for action in actions:
                action()
        elif self._inflight == self.config.max_inbound_window - 1:
            self.kick()

    async def wait_quiet(self) -> None:
        """Until no handler runs and no deliver_sm awaits its response."""
        while self._inflight or self._delivering:
            self._quiet.clear()
            await self._quiet.wait()

    def after_quiet(self, action: Callable[[], None]) -> None:
        """Run `action` once no handler is in flight (now, if none is)."""
        if self._inflight == 0:
            action()
        else:
            self._on_quiet.append(action)

    def close_when_quiet(self) -> None:
        """Close once the handlers in flight have written their responses."""
        self._closing = True
        self.after_quiet(self.close)

    # -- our requests --------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """Bound, connected and not unbinding: deliver_sm may be sent."""
        return (
            self.transport is not None
            and not self._closing
            and self.info is not None
            and self.conn.state in BOUND
        )

    async def deliver_sm(self, pdu: DeliverSm) -> int:
        """See SessionInfo.deliver."""
        if self.info is None or not self.info.can_receive:
            raise SessionGone("not_receiver")
        self._delivering += 1
        try:
            conn = self.conn
            await self.outbound.wait_slot(lambda: conn.window_available > 0)
            if not self.is_open or conn.state not in RX:
                raise SessionGone("unbound" if self.transport is not None else "closed")
            seq = conn.next_sequence()
            pdu = dataclasses.replace(pdu, sequence_number=seq)
            self.write(conn.send(pdu))  # PduEncodeError (a bad PDU from the caller) propagates
            future = self.outbound.add(seq)
            try:
                resp = await future
            except asyncio.CancelledError:
                self.outbound.discard(seq)
                self._expired(seq)
                raise
            return resp.command_status
        finally:
            self._delivering -= 1
            self._quiet.set()

    def _expired(self, seq: int) -> None:
        self.conn.forget(seq)
        self.outbound.slot_freed()

    # -- timers ----------------------------------------------------------------------------------

    def bound(self, info: SessionInfo, account: BoundAccount) -> None:
        """The bind succeeded (its response is written): start the session timers."""
        self.info, self.account = info, account
        self.last_heard = self.loop.time()
        self.timers.bound()

    # -- ending --------------------------------------------------------------------------------

    def report_closed(self) -> None:
        """Tell the hooks, once, that this bound session ended (deliver no more to it)."""
        if self.info is not None and not self._reported_closed:
            self._reported_closed = True
            try:
                self.hooks.session_closed(self.info)
            except Exception as exc:  # a hook bug must not break the server
                log.error("%s: session_closed hook failed: %s", self.label, type(exc).__name__)

    async def shutdown(self) -> None:
        """Graceful end for SmppServer.stop: unbind (§4.2), let handlers answer and
        deliveries settle, then close."""
        if self.transport is None:
            return
        if self.is_open:
            self.draining = True
            seq = self.conn.next_sequence()
            self.write(self.conn.send(Unbind(sequence_number=seq)))
            unbind_resp = self.outbound.add(seq)
            self.report_closed()  # deliveries already sent may still be answered
            await asyncio.gather(self._await_unbind_resp(unbind_resp), self.wait_quiet())
        else:
            await self.wait_quiet()
        self.close()
        await self.closed

    async def _await_unbind_resp(self, future: asyncio.Future[Pdu]) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(future), self.config.unbind_timeout)
        except (TimeoutError, SessionGone):
            log.info("%s: no unbind_resp", self.label)

    def close(self) -> None:
        """Flush what is written and close the connection."""
        self._closing = True
        if self.transport is not None:
            self._flush()
            self.transport.close()

    def abort(self) -> None:
        self._closing = True
        if self.transport is not None:
            self.transport.abort()

    async def wait_closed(self) -> None:
        await asyncio.shield(self.closed)

"""`SmppConnector`: an SMPP 3.4 client (ESME) that keeps a bind up and submits parts.

Sending is callback driven (the uvicorn model): `submit` queues a request and schedules the
pump, which moves as many requests as the window, the TPS budget and a throttling pause allow
into submit_sm PDUs; the session writes everything produced in one loop iteration at once.
Requests are ordered by arrival; a part answered ESME_RTHROTTLED goes back into the queue at
its original position, so it is resent before anything that was not yet sent. So does a part
left unanswered by a lost link (DESIGN.md §7: a resend only across a disconnect): it goes out
first on the next link, up to `resend_max` times, and is then handed back as TRANSIENT.
While no link is up, requests wait in the queue at most `response_timeout`.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from smsgate.adapters.connectors.base import Backoff, TokenBucket, mask_number
from smsgate.adapters.connectors.smpp_messages import (
    InboundDecodeError,
    build_submit_sm,
    is_receipt,
    to_inbound,
    to_receipt,
)
from smsgate.adapters.connectors.smpp_session import SmppClientSession
from smsgate.services.ports import ConnectorEvents, OutboundPart, OutcomeKind, SubmitOutcome
from smsgate.smpp.constants import CommandStatus
from smsgate.smpp.errors import SmppError
from smsgate.smpp.pdu import (
    BindReceiver,
    BindTransceiver,
    BindTransmitter,
    DataSm,
    DeliverSm,
    Pdu,
    SubmitSmResp,
)

__all__ = ["ConnectorStats", "SmppConnector", "SmppConnectorConfig"]

log = logging.getLogger(__name__)

BindMode = Literal["transceiver", "transmitter+receiver"]
IdFormat = Literal["auto", "hex", "dec", "as_is"]

# Statuses worth retrying later (SMPP 3.4 §5.1.3); everything else is a permanent refusal.
TEMPORARY_STATUSES = frozenset(
    {
        CommandStatus.ESME_RMSGQFUL,
        CommandStatus.ESME_RSYSERR,
        CommandStatus.ESME_RX_T_APPN,
        CommandStatus.ESME_RTHROTTLED,
    }
)
_MAX_THROTTLE_PAUSE = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class SmppConnectorConfig:
    """Settings of one SMPP bind (or transmitter + receiver pair) to an SMSC."""

    name: str
    host: str
    port: int
    system_id: str
    password: str = field(repr=False)  # never logged
    system_type: str = ""
    bind: BindMode = "transceiver"
    window: int = 10
    tps: float | None = None  # None: unlimited
    enquire_link_interval: float = 30.0
    response_timeout: float = 10.0
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0
    throttle_pause: float = 1.0
    throttle_max_tries: int = 10
    resend_max: int = 3  # resends of one part after links lost before its answer
    source_ton: int | None = None  # override OutboundPart.source_ton
    source_npi: int | None = None
    id_format: IdFormat = "auto"  # how the SMSC writes message ids (for receipt matching)
    unbind_timeout: float = 2.0
    max_frame_size: int = 65536


@dataclass(slots=True)
class ConnectorStats:
    """Counters for the admin API (monotonic since start)."""

    submitted: int = 0  # submit_sm PDUs written, resends included
    ok: int = 0
    transient: int = 0
    permanent: int = 0
    throttled: int = 0  # ESME_RTHROTTLED answers
    receipts: int = 0
    inbound: int = 0
    handler_errors: int = 0
    reconnects: int = 0
    resent: int = 0  # parts queued again because the link was lost before their answer


@dataclass(slots=True, eq=False)
class _Submit:
    order: int
    part: OutboundPart
    future: asyncio.Future[SubmitOutcome]
    tries: int = 0  # ESME_RTHROTTLED answers
    resends: int = 0  # links lost before an answer

    def __lt__(self, other: _Submit) -> bool:
        return self.order < other.order


def _status_name(status: int) -> str:
    try:
        return CommandStatus(status).name
    except ValueError:
        return f"0x{status:08X}"


class SmppConnector:
    """Implements `services.ports.Connector` over SMPP 3.4 (see the module docstring)."""

    def __init__(self, *, config: SmppConnectorConfig, events: ConnectorEvents) -> None:
        self.name = config.name
        self.config = config
        self._events = events
        self._counters = ConnectorStats()
        self._queue: list[_Submit] = []
        self._order = itertools.count()
        self._tx: SmppClientSession | None = None
        self._sessions: list[SmppClientSession] = []
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._pump_handle: asyncio.Handle | asyncio.TimerHandle | None = None
        self._down_timer: asyncio.TimerHandle | None = None
        self._down_since: float | None = None  # loop time the link that was up went down
        self._bucket = TokenBucket(config.tps, max(1.0, config.tps / 10)) if config.tps else None
        self._paused_until = 0.0
        self._throttle_streak = 0
        self._backoff = Backoff(config.reconnect_min, config.reconnect_max, random.Random())
        self._lost = asyncio.Event()
        self._reported_up = False

    # -- Connector port --------------------------------------------------------------------

    @property
    def is_up(self) -> bool:
        return self._tx is not None and self._tx.is_open

    @property
    def rebinding(self) -> bool:
        """A link that was up went down less than response_timeout ago: a part submitted now
        waits in its place for the rebind (TRANSIENT "down" if it does not come in time)."""
        if self._stopping or self.is_up:
            return False
        if self._reported_up:  # going down this moment (`_link_down` has not run yet)
            return True
        since = self._down_since
        return since is not None and asyncio.get_running_loop().time() - since < (
            self.config.response_timeout
        )

    def stats(self) -> dict[str, int]:
        """Counters plus the current queue and window use."""
        c = self._counters
        return {
            "submitted": c.submitted,
            "ok": c.ok,
            "transient": c.transient,
            "permanent": c.permanent,
            "throttled": c.throttled,
            "receipts": c.receipts,
            "inbound": c.inbound,
            "handler_errors": c.handler_errors,
            "reconnects": c.reconnects,
            "resent": c.resent,
            "queued": len(self._queue),
            "in_flight": self._tx.outstanding if self._tx else 0,
        }

    async def start(self) -> None:
        """Start connecting and binding in the background (returns at once)."""
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name=f"smpp-{self.name}")

    async def stop(self) -> None:
        """Unbind, close, and fail everything still queued or in flight as TRANSIENT."""
        self._stopping = True
        if self._handlers:  # let receipts being stored finish, so their resps still go out
            await asyncio.wait(set(self._handlers), timeout=self.config.unbind_timeout)
        sessions = list(self._sessions)
        if sessions:
            await asyncio.gather(*(s.unbind(self.config.unbind_timeout) for s in sessions))
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        self._fail_queued("stopped")
        self._report(up=False)
        for timer in (self._pump_handle, self._down_timer):
            if timer is not None:
                timer.cancel()
        # Forgotten too: a handle left here would keep a restarted connector from arming them.
        self._pump_handle = self._down_timer = None
        self._down_since = None

    async def submit(self, part: OutboundPart) -> SubmitOutcome:
        """Send one part and wait for the SMSC's answer (see `Connector`)."""
        if self._stopping:
            return self._outcome(OutcomeKind.TRANSIENT, error="stopped")
        loop = asyncio.get_running_loop()
        # Queued at once, even with the link down: its place is its arrival.
        request = _Submit(next(self._order), part, loop.create_future())
        heapq.heappush(self._queue, request)
        if self.is_up:
            self._pump_soon()
        else:
            self._arm_down_timer()
        return await request.future

    # -- sending ---------------------------------------------------------------------------

    def _pump_soon(self, delay: float = 0.0) -> None:
        handle = self._pump_handle
        if handle is not None:
            # An immediate pump is pending, or a timed one and this one is timed too.
            if delay > 0 or not isinstance(handle, asyncio.TimerHandle):
                return
            handle.cancel()
        loop = asyncio.get_running_loop()
        if delay > 0:
            self._pump_handle = loop.call_later(delay, self._pump)
        else:
            self._pump_handle = loop.call_soon(self._pump)

    def _pump(self) -> None:
        self._pump_handle = None
        session = self._tx
        if session is None or not session.is_open or session.writing_paused:
            return
        now = asyncio.get_running_loop().time()
        if now < self._paused_until:
            self._pump_soon(self._paused_until - now)
            return
        while self._queue and session.window_available > 0:
            if self._bucket is not None and not self._bucket.take(now):
                self._pump_soon(self._bucket.wait_time(now))
                return
            request = heapq.heappop(self._queue)
            if request.future.done():  # the caller went away
                continue
            if self._expired(request):
                continue
            self._send(session, request)

    def _expired(self, request: _Submit) -> bool:
        """A part whose validity ended while it waited here (a throttling pause, a link
        down) is not sent: DESIGN.md §7 promises nothing goes out after its validity."""
        until = request.part.validity_until
        if until is None or datetime.now(UTC) < until:
            return False
        self._finish(request, OutcomeKind.TRANSIENT, error="expired")
        return True

    def _send(self, session: SmppClientSession, request: _Submit) -> None:
        try:
            pdu = build_submit_sm(
                request.part,
                session.next_sequence(),
                system_type_service="",
                source_ton=self.config.source_ton,
                source_npi=self.config.source_npi,
            )
            sent = session.request(
                pdu, lambda resp, why: self._answered(request, resp, why, session)
            )
        except SmppError:
            # The part itself cannot be encoded (e.g. an over-long address): our input is bad.
            self._finish(request, OutcomeKind.PERMANENT, error="encode_error")
            return
        if sent:
            self._counters.submitted += 1
        else:
            heapq.heappush(self._queue, request)

    def _answered(
        self, request: _Submit, resp: Pdu | None, reason: str, session: SmppClientSession
    ) -> None:
        if not self._stopping:
            self._pump_soon()
        if resp is None:
            if self._stopping:
                self._finish(request, OutcomeKind.TRANSIENT, error="stopped")
                return
            if request.resends < self.config.resend_max:
                # The SMSC may have taken the part or not: it goes again, first, on the
                # next link (the order is kept), and is counted.
                request.resends += 1
                self._counters.resent += 1
                heapq.heappush(self._queue, request)
            else:
                self._finish(request, OutcomeKind.TRANSIENT, error=reason)
            if reason == "timeout":
                # Sent again on this link, it could be delivered twice by a link that seems
                # fine; DESIGN.md §7 allows a resend only across a crash or a disconnect, so
                # the link is closed and rebound.
                session.abort("no submit_sm_resp within the response timeout")
            return
        status = resp.command_status
        if status == CommandStatus.ESME_ROK and isinstance(resp, SubmitSmResp):
            self._throttle_streak = 0
            self._finish(request, OutcomeKind.OK, smsc_id=resp.message_id)
        elif status == CommandStatus.ESME_RTHROTTLED:
            self._counters.throttled += 1
            request.tries += 1
            if request.tries >= self.config.throttle_max_tries or self._stopping:
                self._finish(request, OutcomeKind.TRANSIENT, status=status, error="throttled")
            else:
                heapq.heappush(self._queue, request)
                self._throttle()
        elif status in TEMPORARY_STATUSES or status == CommandStatus.ESME_ROK:
            self._finish(request, OutcomeKind.TRANSIENT, status=status, error=_status_name(status))
        else:
            self._finish(request, OutcomeKind.PERMANENT, status=status, error=_status_name(status))

    def _throttle(self) -> None:
        now = asyncio.get_running_loop().time()
        if now < self._paused_until:
            return  # the other answers of the same burst do not lengthen the pause
        pause = min(_MAX_THROTTLE_PAUSE, self.config.throttle_pause * 2.0**self._throttle_streak)
        self._throttle_streak += 1
        self._paused_until = now + pause
        log.info("%s: ESME_RTHROTTLED, pausing sends for %.2fs", self.name, pause)
        self._pump_soon(pause)

    def _outcome(self, kind: OutcomeKind, **fields: object) -> SubmitOutcome:
        if kind is OutcomeKind.OK:
            self._counters.ok += 1
        elif kind is OutcomeKind.TRANSIENT:
            self._counters.transient += 1
        else:
            self._counters.permanent += 1
        return SubmitOutcome(kind=kind, **fields)  # type: ignore[arg-type]

    def _finish(self, request: _Submit, kind: OutcomeKind, **fields: object) -> None:
        if not request.future.done():
            request.future.set_result(self._outcome(kind, **fields))

    def _fail_queued(self, reason: str) -> None:
        queued, self._queue = self._queue, []
        for request in queued:
            self._finish(request, OutcomeKind.TRANSIENT, error=reason)

    # -- link lifecycle --------------------------------------------------------------------

    def _stopped(self) -> bool:
        return self._stopping  # a call, so the check after an await is not narrowed away

    async def _run(self) -> None:
        while not self._stopped():
            try:
                await self._connect()
            except (OSError, TimeoutError, _BindRefused) as exc:
                log.warning("%s: connect/bind failed: %s", self.name, _describe(exc))
                self._close_sessions()
            else:
                self._link_up()
                await self._lost.wait()
                self._link_down()
            if self._stopped():
                return
            await asyncio.sleep(self._backoff.next_delay())

    async def _connect(self) -> None:
        self._lost.clear()
        if self.config.bind == "transceiver":
            self._tx = await self._open(BindTransceiver, "trx")
        else:
            self._tx = await self._open(BindTransmitter, "tx")
            await self._open(BindReceiver, "rx")

    async def _open(
        self, kind: type[BindTransceiver | BindTransmitter | BindReceiver], label: str
    ) -> SmppClientSession:
        cfg = self.config
        loop = asyncio.get_running_loop()
        _transport, session = await asyncio.wait_for(
            loop.create_connection(
                lambda: SmppClientSession(
                    self,
                    label=f"{cfg.name}/{label}",
                    response_timeout=cfg.response_timeout,
                    enquire_link_interval=cfg.enquire_link_interval,
                    window=cfg.window,
                    max_frame_size=cfg.max_frame_size,
                ),
                cfg.host,
                cfg.port,
            ),
            cfg.response_timeout,
        )
        self._sessions.append(session)
        answer: asyncio.Future[Pdu | None] = loop.create_future()

        def bound(resp: Pdu | None, _reason: str) -> None:
            if not answer.done():
                answer.set_result(resp)

        bind = kind(
            sequence_number=session.next_sequence(),
            system_id=cfg.system_id,
            password=cfg.password,
            system_type=cfg.system_type,
        )
        session.request(bind, bound)
        resp = await answer
        if resp is None:
            raise ConnectionError("no bind response")
        if resp.command_status != CommandStatus.ESME_ROK:
            raise _BindRefused(_status_name(resp.command_status))
        return session

    def _link_up(self) -> None:
        self._backoff.reset()
        self._down_since = None
        if self._down_timer is not None:
            self._down_timer.cancel()
            self._down_timer = None
        log.info("%s: bound to %s:%d", self.name, self.config.host, self.config.port)
        self._report(up=True)
        self._pump_soon()

    def _report(self, *, up: bool) -> None:
        if up != self._reported_up:
            self._reported_up = up
            self._events.on_link_change(self.name, up)

    def _link_down(self) -> None:
        self._close_sessions()
        if self._reported_up:
            self._down_since = asyncio.get_running_loop().time()
        self._report(up=False)
        if self._stopping:
            return
        self._counters.reconnects += 1
        log.warning("%s: link down, reconnecting", self.name)
        self._arm_down_timer()

    def _arm_down_timer(self) -> None:
        """Parts queued but not sent wait for a link at most response_timeout."""
        if self._down_timer is None:
            self._down_timer = asyncio.get_running_loop().call_later(
                self.config.response_timeout, self._down_too_long
            )

    def _down_too_long(self) -> None:
        self._down_timer = None
        if not self.is_up:
            self._fail_queued("down")

    def _close_sessions(self) -> None:
        for session in self._sessions:
            session.close()
        self._sessions.clear()
        self._tx = None

    # -- SessionOwner ----------------------------------------------------------------------

    def session_lost(self, session: SmppClientSession) -> None:
        if session in self._sessions:
            self._lost.set()

    def session_writable(self, session: SmppClientSession) -> None:
        if session is self._tx:
            self._pump_soon()

    def session_deliver(self, session: SmppClientSession, pdu: DeliverSm | DataSm) -> None:
        session.handler_started()
        task = asyncio.create_task(self._deliver(session, pdu))
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)

    async def _deliver(self, session: SmppClientSession, pdu: DeliverSm | DataSm) -> None:
        status = CommandStatus.ESME_ROK
        try:
            if is_receipt(pdu):
                receipt = to_receipt(self.name, pdu)
                await self._events.on_receipt(receipt)
                self._counters.receipts += 1
            else:
                inbound = to_inbound(self.name, pdu, datetime.now(UTC))
                await self._events.on_inbound(inbound)
                self._counters.inbound += 1
        except InboundDecodeError:
            log.warning("%s: undecodable deliver_sm from %s", self.name, _mask(pdu))
            status = CommandStatus.ESME_RX_P_APPN
        except asyncio.CancelledError:
            session.handler_finished()
            raise
        except Exception:
            # The gateway could not store it: a temporary error makes the SMSC redeliver.
            self._counters.handler_errors += 1
            log.exception("%s: handler failed for deliver_sm from %s", self.name, _mask(pdu))
            status = CommandStatus.ESME_RX_T_APPN
        session.handler_finished()
        session.respond(pdu.make_resp(command_status=status))


class _BindRefused(Exception):
    """The SMSC answered the bind with an error status."""


def _mask(pdu: DeliverSm | DataSm) -> str:
    return mask_number(pdu.source_addr)


def _describe(exc: BaseException) -> str:
    # Exception text from our own code only; never echo a peer's bytes.
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__

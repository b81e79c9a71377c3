"""`WindowedConnector`: the protocol-neutral half of a southbound connector.

What every windowed protocol (SMPP today; UCP/EMI and CIMD2 next) shares lives here: the
ordered queue, the window, TPS pacing, the throttling pause, keeping a link up (reconnects
with backoff), and resending what a lost link left unanswered. A subclass speaks the
protocol: it opens a link (`_connect`), writes one part (`_send`) and reports each answer
through `_accepted`, `_throttled`, `_refused` or `_unanswered`.

Sending is callback driven (the uvicorn model): `submit` queues a request and schedules the
pump, which moves as many requests as the window, the TPS budget and a throttling pause allow
onto the link. Requests are ordered by arrival; a part answered "throttled" goes back into the
queue at its original position, so it is resent before anything that was not yet sent, up to
`throttle_max_tries` times. So does a part left unanswered by a lost link (DESIGN.md §7: a
resend only across a disconnect): it goes out first on the next link, up to `resend_max`
times, and is then handed back as TRANSIENT. While no link is up, requests wait in the queue
at most `response_timeout`.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from smsgate.adapters.connectors.pacing import Backoff, TokenBucket
from smsgate.services.ports import ConnectorEvents, OutboundPart, OutcomeKind, SubmitOutcome

__all__ = [
    "ConnectRefused",
    "ConnectorLimits",
    "ConnectorStats",
    "Link",
    "QueuedPart",
    "WindowedConnector",
]

log = logging.getLogger(__name__)

_MAX_THROTTLE_PAUSE = 30.0


class ConnectorLimits(Protocol):
    """The settings the windowed half reads (a connector's config has at least these)."""

    @property
    def name(self) -> str: ...
    @property
    def tps(self) -> float | None: ...  # None: unlimited
    @property
    def response_timeout(self) -> float: ...
    @property
    def reconnect_min(self) -> float: ...
    @property
    def reconnect_max(self) -> float: ...
    @property
    def throttle_pause(self) -> float: ...
    @property
    def throttle_max_tries(self) -> int: ...
    @property
    def resend_max(self) -> int: ...  # resends of one part after links lost before its answer
    @property
    def unbind_timeout(self) -> float: ...


class Link(Protocol):
    """The sending side of a connector's link (e.g. the SMPP transmitter session)."""

    @property
    def is_open(self) -> bool: ...
    @property
    def writing_paused(self) -> bool: ...
    @property
    def window_available(self) -> int: ...
    @property
    def outstanding(self) -> int: ...
    def abort(self, reason: str) -> None: ...

    def flush(self) -> None:
        """Write what is buffered now, not at the end of the loop pass."""


class ConnectRefused(Exception):
    """The far end refused the link (e.g. a bind answered with an error status)."""


@dataclass(slots=True)
class ConnectorStats:
    """Counters for the admin API (monotonic since start)."""

    submitted: int = 0  # parts written, resends included
    ok: int = 0
    transient: int = 0
    permanent: int = 0
    throttled: int = 0  # "throttled" answers (SMPP ESME_RTHROTTLED)
    receipts: int = 0
    inbound: int = 0
    handler_errors: int = 0
    reconnects: int = 0
    resent: int = 0  # parts queued again because the link was lost before their answer


@dataclass(slots=True, eq=False)
class QueuedPart:
    """A part waiting for, or out on, the link; its place in the queue is `order`."""

    order: int
    part: OutboundPart
    future: asyncio.Future[SubmitOutcome]
    tries: int = 0  # "throttled" answers
    resends: int = 0  # links lost before an answer

    def __lt__(self, other: QueuedPart) -> bool:
        return self.order < other.order


C = TypeVar("C", bound=ConnectorLimits)
L = TypeVar("L", bound=Link)


class WindowedConnector(Generic[C, L]):
    """Implements `services.ports.Connector` for a windowed protocol (see the module
    docstring); a subclass implements `_connect`, `_send`, `_close_links`, `_unbind`."""

    def __init__(self, *, config: C, events: ConnectorEvents) -> None:
        self.name = config.name
        self.config = config
        self._events = events
        self._counters = ConnectorStats()
        self._queue: list[QueuedPart] = []
        self._order = itertools.count()
        self._tx: L | None = None  # the link parts go out on
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._pump_handle: asyncio.Handle | asyncio.TimerHandle | None = None
        self._down_timer: asyncio.TimerHandle | None = None
        self._down_since: float | None = None  # loop time the link that was up went down
        tps = config.tps
        self._bucket = TokenBucket(tps, max(1.0, tps / 10)) if tps else None
        self._paused_until = 0.0
        self._throttle_streak = 0
        self._backoff = Backoff(config.reconnect_min, config.reconnect_max, random.Random())
        self._lost = asyncio.Event()
        self._reported_up = False

    # -- what a protocol implements --------------------------------------------------------

    async def _connect(self) -> L:
        """Open and authenticate the link; raise OSError, TimeoutError or ConnectRefused."""
        raise NotImplementedError

    def _send(self, link: L, request: QueuedPart) -> None:
        """Write one part; its answer comes back through `_accepted` ... `_unanswered`."""
        raise NotImplementedError

    def _close_links(self) -> None:
        """Close every connection of the link at once."""
        raise NotImplementedError

    async def _unbind(self, wait: float) -> None:
        """Say goodbye on every open connection (at most `wait` seconds)."""
        raise NotImplementedError

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
        """Start connecting in the background (returns at once)."""
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name=f"connector-{self.name}")

    async def stop(self) -> None:
        """Unbind, close, and fail everything still queued or in flight as TRANSIENT."""
        self._stopping = True
        if self._handlers:  # let receipts being stored finish, so their answers still go out
            await asyncio.wait(set(self._handlers), timeout=self.config.unbind_timeout)
        await self._unbind(self.config.unbind_timeout)
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
        """Send one part and wait for the far end's answer (see `Connector`)."""
        if self._stopping:
            return self._outcome(OutcomeKind.TRANSIENT, error="stopped")
        loop = asyncio.get_running_loop()
        # Queued at once, even with the link down: its place is its arrival.
        request = QueuedPart(next(self._order), part, loop.create_future())
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
        link = self._tx
        if link is None or not link.is_open or link.writing_paused:
            return
        now = asyncio.get_running_loop().time()
        if now < self._paused_until:
            self._pump_soon(self._paused_until - now)
            return
        while self._queue and link.window_available > 0:
            if self._bucket is not None and not self._bucket.take(now):
                self._pump_soon(self._bucket.wait_time(now))
                break
            request = heapq.heappop(self._queue)
            if request.future.done():  # the caller went away
                continue
            if self._expired(request):
                continue
            self._send(link, request)
        link.flush()

    def _pump_now(self) -> None:
        """An answer freed room in the window: fill it inside this read, not a loop pass
        later (the link writes what the read produced when it is done with it), unless a
        pause (throttling, TPS) decides when to send next."""
        if self._stopping:
            return
        handle = self._pump_handle
        if handle is not None:
            if isinstance(handle, asyncio.TimerHandle):
                return
            handle.cancel()
        self._pump()

    def _expired(self, request: QueuedPart) -> bool:
        """A part whose validity ended while it waited here (a throttling pause, a link
        down) is not sent: DESIGN.md §7 promises nothing goes out after its validity."""
        until = request.part.validity_until
        if until is None or datetime.now(UTC) < until:
            return False
        self._finish(request, OutcomeKind.TRANSIENT, error="expired")
        return True

    def _requeue(self, request: QueuedPart) -> None:
        """Back into its place: not written (no room after all), to be sent again first."""
        heapq.heappush(self._queue, request)

    # -- answers (called by the protocol) ----------------------------------------------------

    def _accepted(self, request: QueuedPart, smsc_id: str) -> None:
        self._throttle_streak = 0
        self._finish(request, OutcomeKind.OK, smsc_id=smsc_id)
        self._pump_now()

    def _refused(self, request: QueuedPart, kind: OutcomeKind, status: int, error: str) -> None:
        """An answer that is not an acceptance: TRANSIENT (try later) or PERMANENT."""
        self._finish(request, kind, status=status, error=error)
        self._pump_now()

    def _throttled(self, request: QueuedPart, status: int) -> None:
        """The far end asked us to slow down: the part goes back to its place, sends pause."""
        self._counters.throttled += 1
        request.tries += 1
        if request.tries >= self.config.throttle_max_tries or self._stopping:
            self._finish(request, OutcomeKind.TRANSIENT, status=status, error="throttled")
        else:
            heapq.heappush(self._queue, request)
            self._throttle()
        self._pump_now()

    def _unanswered(self, request: QueuedPart, reason: str, link: L) -> None:
        """No answer: the link went away ("disconnected") or stayed silent ("timeout")."""
        if self._stopping:
            self._finish(request, OutcomeKind.TRANSIENT, error="stopped")
            return
        self._pump_soon()
        if request.resends < self.config.resend_max:
            # The far end may have taken the part or not: it goes again, first, on the
            # next link (the order is kept), and is counted.
            request.resends += 1
            self._counters.resent += 1
            heapq.heappush(self._queue, request)
        else:
            self._finish(request, OutcomeKind.TRANSIENT, error=reason)
        if reason == "timeout":
            # Sent again on this link, it could be delivered twice by a link that seems
            # fine; DESIGN.md §7 allows a resend only across a crash or a disconnect, so
            # the link is closed and opened again.
            link.abort("no answer within the response timeout")

    def _throttle(self) -> None:
        now = asyncio.get_running_loop().time()
        if now < self._paused_until:
            return  # the other answers of the same burst do not lengthen the pause
        pause = min(_MAX_THROTTLE_PAUSE, self.config.throttle_pause * 2.0**self._throttle_streak)
        self._throttle_streak += 1
        self._paused_until = now + pause
        log.info("%s: throttled, pausing sends for %.2fs", self.name, pause)
        self._pump_soon(pause)

    def _outcome(self, kind: OutcomeKind, **fields: Any) -> SubmitOutcome:
        if kind is OutcomeKind.OK:
            self._counters.ok += 1
        elif kind is OutcomeKind.TRANSIENT:
            self._counters.transient += 1
        else:
            self._counters.permanent += 1
        return SubmitOutcome(kind=kind, **fields)

    def _finish(self, request: QueuedPart, kind: OutcomeKind, **fields: Any) -> None:
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
            self._lost.clear()
            try:
                self._tx = await self._connect()
            except (OSError, TimeoutError, ConnectRefused) as exc:
                log.warning("%s: connect failed: %s", self.name, _describe(exc))
                self._close_links()
                self._tx = None
            else:
                self._link_up()
                await self._lost.wait()
                self._link_down()
            if self._stopped():
                return
            await asyncio.sleep(self._backoff.next_delay())

    def _link_lost(self) -> None:
        """A connection of the link went away (called by the protocol)."""
        self._lost.set()

    def _link_up(self) -> None:
        self._backoff.reset()
        self._down_since = None
        if self._down_timer is not None:
            self._down_timer.cancel()
            self._down_timer = None
        log.info("%s: link up", self.name)
        self._report(up=True)
        self._pump_soon()

    def _report(self, *, up: bool) -> None:
        if up != self._reported_up:
            self._reported_up = up
            self._events.on_link_change(self.name, up)

    def _link_down(self) -> None:
        self._close_links()
        self._tx = None
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

    # -- handlers of what the far end sends (receipts, inbound) ------------------------------

    def _spawn_handler(self, work: Coroutine[Any, Any, None]) -> None:
        """Run a handler as a task that `stop` lets finish (its answer still goes out)."""
        task = asyncio.create_task(work)
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)


def _describe(exc: BaseException) -> str:
    # Exception text from our own code only; never echo a peer's bytes.
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__

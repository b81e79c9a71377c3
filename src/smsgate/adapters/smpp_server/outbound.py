"""Our own requests to an ESME (deliver_sm, enquire_link, unbind) awaiting their responses.

Each request gets a future resolved by its response (or a generic_nack), failed with
SessionGone when its timer expires or the session ends. Callers that want a window slot
queue here in FIFO order and are woken one at a time as slots free up.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from smsgate.adapters.smpp_server.errors import SessionGone
from smsgate.smpp.pdu import Pdu


class OutboundRequests:
    """Futures for outstanding requests, by sequence_number, with per-request timers."""

    def __init__(self, *, timeout: float, on_expire: Callable[[int], None]) -> None:
        self._loop = asyncio.get_running_loop()
        self._timeout = timeout
        self._on_expire = on_expire
        self._pending: dict[int, tuple[asyncio.Future[Pdu], asyncio.TimerHandle]] = {}
        self._slot_waiters: deque[asyncio.Future[None]] = deque()
        self._gone: str | None = None

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, seq: int) -> asyncio.Future[Pdu]:
        """Track request `seq` (just written): its future gets the response."""
        future: asyncio.Future[Pdu] = self._loop.create_future()
        timer = self._loop.call_later(self._timeout, self._expire, seq)
        self._pending[seq] = (future, timer)
        return future

    def resolve(self, pdu: Pdu) -> bool:
        """Hand a response to the request it answers; False when none is waiting for it."""
        entry = self._pending.pop(pdu.sequence_number, None)
        if entry is None:
            return False
        future, timer = entry
        timer.cancel()
        if not future.done():
            future.set_result(pdu)
        return True

    def discard(self, seq: int) -> None:
        """Stop tracking `seq` (its caller went away)."""
        entry = self._pending.pop(seq, None)
        if entry is not None:
            entry[1].cancel()

    def _expire(self, seq: int) -> None:
        entry = self._pending.pop(seq, None)
        if entry is not None:
            self._on_expire(seq)
            if not entry[0].done():
                entry[0].set_exception(SessionGone("timeout"))
                entry[0].exception()  # retrieved here: a caller may have given up already

    async def wait_slot(self, has_slot: Callable[[], bool]) -> None:
        """Wait (FIFO) until `has_slot()`; raises SessionGone once the session ended."""
        while True:
            if self._gone is not None:
                raise SessionGone(self._gone)
            if has_slot() and not self._slot_waiters:
                return
            waiter: asyncio.Future[None] = self._loop.create_future()
            self._slot_waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter in self._slot_waiters:
                    self._slot_waiters.remove(waiter)
                elif waiter.done() and not waiter.cancelled():
                    self.slot_freed()  # we were woken but leave: pass the slot on
                raise
            if self._gone is not None:
                raise SessionGone(self._gone)
            if has_slot():
                return

    def slot_freed(self) -> None:
        """A window slot may be free: wake the first waiter."""
        while self._slot_waiters:
            waiter = self._slot_waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def close(self, reason: str) -> None:
        """The session ended: fail every outstanding request and waiter with SessionGone."""
        self._gone = reason
        pending, self._pending = self._pending, {}
        for future, timer in pending.values():
            timer.cancel()
            if not future.done():
                future.set_exception(SessionGone(reason))
                future.exception()  # retrieved here: a caller may have given up already
        waiters, self._slot_waiters = self._slot_waiters, deque()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    @property
    def closed(self) -> bool:
        return self._gone is not None

"""The clocks of one server session: bind timeout, idle timeout and our enquire_link
keepalive (SMPP 3.4 §4.11; the session timers of §7.2 are ours to choose).

* Not bound within `bind_timeout` of connecting: closed.
* Bound and nothing heard from the client for `idle_timeout`: closed. Answers to our own
  enquire_link do not count as hearing from it: they prove the link, not activity.
* Nothing at all received for `enquire_link_interval`: we send enquire_link; no answer
  within `response_timeout` closes the connection (the link is dead).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from smsgate.adapters.smpp_server.errors import SessionGone
from smsgate.smpp.pdu import EnquireLink, Pdu

if TYPE_CHECKING:
    from smsgate.adapters.smpp_server.session import ServerSession

log = logging.getLogger("smsgate.smpp_server")


class SessionTimers:
    """One `call_at` timer at a time per session, re-armed from the last traffic."""

    def __init__(self, session: ServerSession) -> None:
        self.s = session
        self._bind_timer: asyncio.TimerHandle | None = None
        self._tick_timer: asyncio.TimerHandle | None = None
        self._enquiring = False

    def connected(self) -> None:
        s = self.s
        self._bind_timer = s.loop.call_later(s.config.bind_timeout, self._bind_expired)

    def bound(self) -> None:
        if self._bind_timer is not None:
            self._bind_timer.cancel()
        self._schedule_tick()

    def cancel(self) -> None:
        for timer in (self._bind_timer, self._tick_timer):
            if timer is not None:
                timer.cancel()

    def _bind_expired(self) -> None:
        s = self.s
        if s.info is None and s.transport is not None:
            log.info("%s: no bind within %.1fs, closing", s.label, s.config.bind_timeout)
            s.close()

    def _schedule_tick(self) -> None:
        s, cfg = self.s, self.s.config
        due = s.last_heard + cfg.idle_timeout
        if not self._enquiring:
            due = min(due, s.last_rx + cfg.enquire_link_interval)
        due = max(due, s.loop.time() + 0.001)
        self._tick_timer = s.loop.call_at(due, self._tick)

    def _tick(self) -> None:
        s = self.s
        if s.transport is None or s.closing:
            return
        now = s.loop.time()
        if now - s.last_heard >= s.config.idle_timeout:
            log.info("%s: idle for %.1fs, closing", s.label, now - s.last_heard)
            s.close()
            return
        if now - s.last_rx >= s.config.enquire_link_interval:
            self._send_enquire_link()
        self._schedule_tick()

    def _send_enquire_link(self) -> None:
        s = self.s
        if self._enquiring or not s.is_open:
            return
        seq = s.conn.next_sequence()
        s.write(s.conn.send(EnquireLink(sequence_number=seq)))
        self._enquiring = True
        s.outbound.add(seq).add_done_callback(self._enquire_answered)

    def _enquire_answered(self, future: asyncio.Future[Pdu]) -> None:
        self._enquiring = False
        if not future.cancelled():
            exc = future.exception()
            if isinstance(exc, SessionGone) and exc.reason == "timeout":
                log.warning("%s: no enquire_link_resp, closing", self.s.label)
                self.s.close()

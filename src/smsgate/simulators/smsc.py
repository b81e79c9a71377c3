"""`SmscSimulator`: an SMPP 3.4 SMSC for the demo, the tests and the benchmarks.

It accepts binds, answers submit_sm / data_sm with message ids, sends delivery receipts after a
delay (one timer heap for all of them, not one task per message), injects mobile-originated
messages, and injects faults: random temporary errors, throttling, periodic disconnects, and
magic destinations (the last four digits):

    …9990  receipt stat UNDELIV, err 001       …9992  submit refused with ESME_RSUBMITFAIL
    …9991  receipt stat EXPIRED                …9993  accepted, but never a receipt
    …9995  the connection is dropped instead of answering (a submit lost in flight)

It records what it received so tests can check that every part arrived (and how often).
With a `state_file` it keeps the receipts it owes across restarts, even a `kill -9`, and sends
them when their ESME binds again (`smsc_journal`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import heapq
import itertools
import logging
import random
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from smsgate.adapters.connectors.pacing import TokenBucket
from smsgate.simulators.control import ControlServer
from smsgate.simulators.smsc_config import (
    ReceiptRecord,
    SimulatorError,
    SmscSimulatorConfig,
    SubmitRecord,
)
from smsgate.simulators.smsc_journal import ReceiptJournal
from smsgate.simulators.smsc_pdus import RECEIPT_STATES, build_mo_pdus, build_receipt_pdu
from smsgate.simulators.smsc_session import SmscSession
from smsgate.smpp.constants import CommandStatus, MessageState, TlvTag
from smsgate.smpp.pdu import DataSm, DeliverSm, Pdu, QuerySm, QuerySmResp, SubmitSm

__all__ = [
    "ReceiptRecord",
    "SimulatorError",
    "SmscSimulator",
    "SmscSimulatorConfig",
    "SubmitRecord",
    "run_simulator",
]

log = logging.getLogger(__name__)

_MAGIC_STAT = {"9990": ("UNDELIV", "001"), "9991": ("EXPIRED", "000")}


@dataclass(slots=True, eq=False)
class _Delivery:
    system_id: str
    pdu: DeliverSm
    stat: str = ""  # receipts only
    message_id: str = ""
    waiter: asyncio.Future[int] | None = None
    attempts: int = 0
    number: int = -1  # receipts only: the message number (the journal's key)


class SmscSimulator:
    """An SMSC on a local port; `async with SmscSimulator(cfg) as sim:` then `sim.port`."""

    name = "smsgate-sim"

    def __init__(
        self, config: SmscSimulatorConfig | None = None, *, control_port: int | None = None
    ) -> None:
        self.config = config or SmscSimulatorConfig()
        self._control_port = control_port
        self._rng = random.Random(self.config.seed)
        self._ids = itertools.count(self._rng.randrange(0x1000_0000, 0x4000_0000))
        self._order = itertools.count()
        self._sessions: set[SmscSession] = set()
        self._server: asyncio.Server | None = None
        self._control: ControlServer | None = None
        self._heap: list[tuple[float, int, _Delivery]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due = float("inf")
        self._backlog: dict[str, deque[_Delivery]] = {}
        self._disconnector: asyncio.TimerHandle | None = None
        self._rr = 0
        tps = self.config.throttle_tps
        self._bucket = TokenBucket(tps, max(1.0, tps / 10)) if tps else None
        self._states: dict[int, tuple[MessageState, int]] = {}
        self._journal: ReceiptJournal | None = None
        self.port = 0
        self.control_url: str | None = None
        self.submitted: list[SubmitRecord] = []
        self.submit_counts: Counter[tuple[str, bytes]] = Counter()
        self.receipts_sent: list[ReceiptRecord] = []
        self.deliver_statuses: list[int] = []
        self.refused = 0  # submits answered with an error status
        self.connections = 0
        self.binds = 0
        self.unbinds = 0
        self.enquire_links = 0
        self.violations = 0  # bad PDUs received
        self.dropped_on_submit = 0
        self.pdus_received = 0
        self._stamp_second = self._stamp_minute = -1
        self._stamp_text = ""
        self._change = asyncio.Event()
        self.max_outstanding = 0  # most submit_sm ever awaiting their resp on one session

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> SmscSimulator:
        loop = asyncio.get_running_loop()
        cfg = self.config
        if cfg.state_file is not None:
            self._restore(Path(cfg.state_file))
        self._server = await loop.create_server(
            lambda: SmscSession(self, window=cfg.window, max_frame_size=cfg.max_frame_size),
            cfg.host,
            cfg.port,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        if cfg.disconnect_every:
            self._disconnector = loop.call_later(cfg.disconnect_every, self._disconnect_all)
        if self._control_port is not None:
            self._control = ControlServer(self, host=cfg.host, port=self._control_port)
            self.control_url = await self._control.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for handle in (self._timer, self._disconnector):
            if handle is not None:
                handle.cancel()
        if self._control is not None:
            await self._control.stop()
        if self._server is not None:
            self._server.close()
        for session in list(self._sessions):
            session.abort()
        if self._server is not None:
            await self._server.wait_closed()
        for backlog in self._backlog.values():
            for delivery in backlog:
                if delivery.waiter is not None and not delivery.waiter.done():
                    delivery.waiter.cancel()
        if self._journal is not None:
            await self._journal.close()
            self._journal = None

    def _restore(self, path: Path) -> None:
        """Open the state file and owe again what it says is owed: each receipt is due when
        it was (at once if that passed) and goes out when its ESME binds as a receiver."""
        self._journal, owed, issued = ReceiptJournal.open(
            path, sync_interval=self.config.state_sync_interval
        )
        if issued >= 0:
            self._ids = itertools.count(issued + 1)
        loop_now, wall_now = asyncio.get_running_loop().time(), time.time()
        for r in owed:
            delivery = _Delivery(
                r.system_id, r.pdu(), stat=r.stat, message_id=r.message_id, number=r.number
            )
            self._states[r.number] = (MessageState.ENROUTE, 0)
            self._schedule(loop_now + max(0.0, r.due_at - wall_now), delivery)

    def flush_journal(self) -> None:
        """Write what the state file is owed before a session writes to its socket: a
        message id never leaves before the receipt it is owed is on record."""
        if self._journal is not None:
            self._journal.write_pending()

    def stats(self) -> dict[str, Any]:
        """Counters for tests and `GET /stats`."""
        return {
            "connections": self.connections,
            "bound": sum(1 for s in self._sessions if s.system_id is not None),
            "submitted": len(self.submitted),
            "refused": self.refused,
            "duplicates": sum(n - 1 for n in self.submit_counts.values() if n > 1),
            "receipts_sent": len(self.receipts_sent),
            "receipts_pending": len(self._heap) + sum(map(len, self._backlog.values())),
            "max_outstanding": self.max_outstanding,
        }

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        """Wait until `predicate()` holds; it is re-checked whenever the simulator saw a PDU
        or a connection change (for tests: no polling, no sleeping; bound it with a timeout).
        """
        while not predicate():
            self._change.clear()
            await self._change.wait()

    def notify(self) -> None:
        """Wake `wait_until` callers (the sessions call it on every PDU)."""
        self._change.set()

    # -- sessions (called by SmscSession) --------------------------------------------------

    def check_bind(self, system_id: str, password: str) -> int:
        cfg = self.config
        if cfg.system_id is not None and system_id != cfg.system_id:
            return CommandStatus.ESME_RINVSYSID
        if cfg.password is not None and password != cfg.password:
            return CommandStatus.ESME_RINVPASWD
        self.binds += 1
        return CommandStatus.ESME_ROK

    def session_opened(self, session: SmscSession) -> None:
        self.connections += 1
        self._sessions.add(session)
        self.notify()

    def session_bound(self, session: SmscSession) -> None:
        self.notify()
        if session.can_receive and session.system_id is not None:
            self._dispatch(session.system_id)

    def session_closed(self, session: SmscSession) -> None:
        self._sessions.discard(session)
        self.notify()

    def on_submit(self, session: SmscSession, pdu: SubmitSm | DataSm) -> None:
        self.max_outstanding = max(self.max_outstanding, session.unanswered_submits)
        self.notify()
        if pdu.destination_addr.endswith("9995"):
            self.dropped_on_submit += 1
            session.abort()
            return
        status, message_id = self._accept(session, pdu)
        if status != CommandStatus.ESME_ROK:
            self.refused += 1
        resp: Pdu = pdu.make_resp(command_status=status, message_id=message_id)
        if self.config.submit_resp_delay > 0:
            loop = asyncio.get_running_loop()
            loop.call_later(self.config.submit_resp_delay, session.answer_submit, resp)
        else:
            session.answer_submit(resp)

    def on_query(self, pdu: QuerySm) -> QuerySmResp:
        number = self._parse_id(pdu.message_id)
        known = self._states.get(number) if number is not None else None
        if known is None:
            return pdu.make_resp(command_status=CommandStatus.ESME_RQUERYFAIL)
        state, err = known
        return pdu.make_resp(message_id=pdu.message_id, message_state=state, error_code=err)

    # -- submits ---------------------------------------------------------------------------

    def _accept(self, session: SmscSession, pdu: SubmitSm | DataSm) -> tuple[int, str]:
        now = asyncio.get_running_loop().time()
        if not session.can_transmit:
            return CommandStatus.ESME_RINVBNDSTS, ""
        if self._bucket is not None and not self._bucket.take(now):
            return CommandStatus.ESME_RTHROTTLED, ""
        tail = pdu.destination_addr[-4:]
        if tail == "9992":
            return CommandStatus.ESME_RSUBMITFAIL, ""
        if self.config.failure_ratio and self._rng.random() < self.config.failure_ratio:
            return CommandStatus.ESME_RSYSERR, ""
        number = next(self._ids)
        if self._journal is not None:
            self._journal.issued(number)
        message_id = self._format_id(number, self.config.id_format)
        short = pdu.short_message if isinstance(pdu, SubmitSm) else b""
        if not short:
            payload = next((t.value for t in pdu.tlvs if t.tag == TlvTag.MESSAGE_PAYLOAD), b"")
            short = payload
        system_id = session.system_id or ""
        self.submitted.append(
            SubmitRecord(
                system_id, pdu.source_addr, pdu.destination_addr, short,
                pdu.esm_class, pdu.data_coding, message_id, pdu.tlvs,
                pdu.registered_delivery, getattr(pdu, "validity_period", ""),
            )
        )  # fmt: skip
        self.submit_counts[pdu.destination_addr, short] += 1
        self._states[number] = (MessageState.ENROUTE, 0)
        if tail != "9993" and pdu.registered_delivery & 0x03:
            stat, err = _MAGIC_STAT.get(tail, ("DELIVRD", "000"))
            if pdu.registered_delivery & 0x03 == 0x02 and stat == "DELIVRD":
                self._states[number] = (MessageState.DELIVERED, 0)
            else:
                receipt = self._receipt(number, pdu, short, stat, err, system_id)
                self._schedule(now + self.config.receipt_delay, receipt)
                if self._journal is not None:
                    self._journal.owe(
                        pdu, receipt.pdu, number=number, system_id=system_id,
                        message_id=receipt.message_id, stat=stat, delay=self.config.receipt_delay,
                    )  # fmt: skip
        elif tail != "9993":
            self._states[number] = (MessageState.DELIVERED, 0)
        return CommandStatus.ESME_ROK, message_id

    def _receipt(
        self, number: int, pdu: SubmitSm | DataSm, short: bytes, stat: str, err: str, sid: str
    ) -> _Delivery:
        written = self._format_id(number, self.config.receipt_id_format or self.config.id_format)
        deliver = build_receipt_pdu(pdu, short, written, stat, err, self._stamp())
        return _Delivery(sid, deliver, stat=stat, message_id=written, number=number)

    def _stamp(self) -> str:
        # Receipt dates have minute resolution: format the clock once per second at most.
        now = datetime.now(UTC)
        if now.second != self._stamp_second or now.minute != self._stamp_minute:
            self._stamp_second, self._stamp_minute = now.second, now.minute
            self._stamp_text = now.strftime("%y%m%d%H%M")
        return self._stamp_text

    def _format_id(self, number: int, style: str) -> str:
        if style == "dec":
            return str(number)
        return f"{number:X}" if style == "HEX" else f"{number:x}"

    def _parse_id(self, message_id: str) -> int | None:
        base = 10 if self.config.id_format == "dec" else 16
        try:
            return int(message_id, base)
        except ValueError:
            return None

    # -- deliveries ------------------------------------------------------------------------

    def _schedule(self, due: float, delivery: _Delivery) -> None:
        heapq.heappush(self._heap, (due, next(self._order), delivery))
        if due < self._timer_due:
            if self._timer is not None:
                self._timer.cancel()
            self._timer_due = due
            self._timer = asyncio.get_running_loop().call_at(due, self._fire)

    def _fire(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._timer, self._timer_due = None, float("inf")
        touched: set[str] = set()
        while self._heap and self._heap[0][0] <= now:
            _, _, delivery = heapq.heappop(self._heap)
            self._backlog.setdefault(delivery.system_id, deque()).append(delivery)
            touched.add(delivery.system_id)
        if self._heap:
            self._timer_due = self._heap[0][0]
            self._timer = loop.call_at(self._timer_due, self._fire)
        for system_id in touched:
            self._dispatch(system_id)

    def _receivers(self, system_id: str) -> list[SmscSession]:
        return [
            s for s in self._sessions if s.can_receive and s.is_open and s.system_id == system_id
        ]

    def _dispatch(self, system_id: str) -> None:
        backlog = self._backlog.get(system_id)
        if not backlog:
            return
        receivers = self._receivers(system_id)
        while backlog and receivers:
            free = [s for s in receivers if s.window_available > 0]
            if not free:
                return
            self._rr += 1
            session = free[self._rr % len(free)]
            delivery = backlog.popleft()
            pdu = dataclasses.replace(delivery.pdu, sequence_number=session.next_sequence())
            delivery.attempts += 1
            session.deliver(
                pdu, functools.partial(self._delivered, delivery), self.config.deliver_timeout
            )

    def _delivered(self, delivery: _Delivery, resp: Pdu | None) -> None:
        self.notify()
        status = resp.command_status if resp is not None else None
        if delivery.stat:
            self.receipts_sent.append(
                ReceiptRecord(delivery.system_id, delivery.message_id, delivery.stat, status)
            )
            if status == CommandStatus.ESME_ROK:
                number = self._parse_id_any(delivery.message_id)
                if number is not None:
                    self._states[number] = (RECEIPT_STATES[delivery.stat], 0)
        if status is not None:
            self.deliver_statuses.append(status)
        if delivery.waiter is not None and status is not None and not delivery.waiter.done():
            delivery.waiter.set_result(status)
        if status is None:
            self._backlog.setdefault(delivery.system_id, deque()).appendleft(delivery)
        elif (
            status != CommandStatus.ESME_ROK
            and delivery.attempts < self.config.max_delivery_attempts
        ):
            now = asyncio.get_running_loop().time()
            self._schedule(now + self.config.retry_delay, delivery)
        elif self._journal is not None and delivery.number >= 0:
            self._journal.settle(delivery.number)  # acknowledged, or given up
        asyncio.get_running_loop().call_soon(self._dispatch, delivery.system_id)

    def _parse_id_any(self, written: str) -> int | None:
        style = self.config.receipt_id_format or self.config.id_format
        try:
            return int(written, 10 if style == "dec" else 16)
        except ValueError:
            return None

    def disconnect_all(self) -> None:
        """Drop every client connection now (as `disconnect_every` does periodically)."""
        for session in list(self._sessions):
            session.abort()

    def _disconnect_all(self) -> None:
        self.disconnect_all()
        interval = self.config.disconnect_every
        if interval:
            loop = asyncio.get_running_loop()
            self._disconnector = loop.call_later(interval, self._disconnect_all)

    # -- mobile-originated messages --------------------------------------------------------

    async def inject_mo(
        self,
        source: str,
        destination: str,
        text: str,
        *,
        concat: Literal["udh8", "udh16", "sar"] | None = "udh8",
        shuffle: bool = False,
        duplicate: bool = False,
        data_coding: Literal["auto", "gsm7", "ucs2"] = "auto",
        system_id: str | None = None,
    ) -> int:
        """Send `text` from `source` as deliver_sm part(s) to a bound receiver; return the
        number of PDUs once each was answered (an error answer is retried in the background).
        """
        target = system_id
        if target is None:
            bound = [s.system_id for s in self._sessions if s.can_receive and s.system_id]
            if not bound:
                raise SimulatorError("no receiver is bound")
            target = bound[0]
        elif not self._receivers(target):
            raise SimulatorError(f"no receiver of system_id {target!r} is bound")
        pdus = build_mo_pdus(
            source, destination, text, concat=concat, encoding=data_coding, rng=self._rng
        )
        if shuffle:
            self._rng.shuffle(pdus)
        if duplicate and pdus:
            pdus.append(pdus[self._rng.randrange(len(pdus))])
        loop = asyncio.get_running_loop()
        waiters: list[asyncio.Future[int]] = []
        backlog = self._backlog.setdefault(target, deque())
        for pdu in pdus:
            waiter: asyncio.Future[int] = loop.create_future()
            waiters.append(waiter)
            backlog.append(_Delivery(target, pdu, waiter=waiter))
        self._dispatch(target)
        await asyncio.gather(*waiters)
        return len(pdus)


async def run_simulator(config: SmscSimulatorConfig, control_port: int | None = None) -> None:
    """Run a simulator until cancelled (for `smsgate simulator smpp`), logging its ports."""
    async with SmscSimulator(config, control_port=control_port) as sim:
        log.warning("SMSC simulator: SMPP on %s:%d", config.host, sim.port)
        print(f"SMPP simulator listening on {config.host}:{sim.port}", flush=True)
        if sim.control_url:
            print(f"control API on {sim.control_url}", flush=True)
        await asyncio.Event().wait()

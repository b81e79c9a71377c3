"""A reconnecting asyncio ESME for the durability tests, around smsgate's sans-I/O
`Connection`: it binds to the gateway process as a transceiver, keeps a window of submit_sm
outstanding, and counts a submission as accepted only when its submit_sm_resp says ESME_ROK.

When the gateway dies (`GatewayProcess.kill`), the submits still outstanding on the lost
bind are queued again in their order; once the next process serves (on a new port), the ESME
connects, rebinds and sends them again. Each send of a submission is an *attempt*; `make`
gets its number, so a test can tell a resubmission from a resend in the SMSC's records.

It answers every deliver_sm with ESME_ROK and counts the delivery receipts by
receipted_message_id (a receipt may come again after a crash: at least once).
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from smsgate.smpp import (
    CommandStatus,
    DeliverSm,
    EsmClass,
    Pdu,
    SubmitSm,
    SubmitSmResp,
    TlvTag,
    parse_receipt,
    tlv_value,
)
from smsgate.testing.esme import BindRefused, EsmeProtocol
from tests.e2e.procs import GatewayProcess

# Refusals that mean "not now": the submission is queued again.
RETRY = frozenset({CommandStatus.ESME_RTHROTTLED, CommandStatus.ESME_RMSGQFUL})
WAIT_S = 30.0  # for a bind_resp or unbind_resp from a live gateway


@dataclass
class EsmeRecord:
    """What the ESME saw, for the test's checks and counts."""

    accepted: dict[int, str] = field(default_factory=dict)  # submission → its message_id
    attempts: Counter[int] = field(default_factory=Counter)  # submit_sm written
    cut: Counter[int] = field(default_factory=Counter)  # outstanding when a bind was lost
    refused: dict[int, int] = field(default_factory=dict)  # submission → non-retry status
    retried: Counter[int] = field(default_factory=Counter)  # status → answers in RETRY
    receipts: Counter[str] = field(default_factory=Counter)  # receipted_message_id → count
    receipt_states: Counter[int] = field(default_factory=Counter)  # message_state → count
    other_deliver_sm: int = 0
    violations: list[str] = field(default_factory=list)  # protocol errors of the gateway
    binds: int = 0
    lost_binds: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def duplicate_receipts(self) -> int:
        return sum(n - 1 for n in self.receipts.values())


class _Link(EsmeProtocol):
    """One TCP connection to the gateway (smsgate.testing's ESME protocol), its submit_sm
    responses and deliver_sm handed to the CrashEsme."""

    def __init__(self, esme: CrashEsme) -> None:
        super().__init__(window=esme.window)
        self.esme = esme
        self.outstanding: dict[int, int] = {}  # sequence_number → submission
        self.violations = esme.record.violations  # protocol errors of the gateway

    def handle(self, pdu: Pdu, out: list[bytes]) -> None:
        if isinstance(pdu, SubmitSmResp):
            self.esme.answered(self.outstanding.pop(pdu.sequence_number), pdu)
        else:
            super().handle(pdu, out)

    def on_deliver_sm(self, pdu: DeliverSm) -> None:
        self.esme.delivered(pdu)

    def after_events(self, out: list[bytes]) -> None:
        if self.bound:
            self.esme.pump(self, out)


class CrashEsme:
    """Submits `count` submissions (`make(index, attempt, sequence_number)` builds each
    attempt's submit_sm) through whichever gateway process serves, until each got ESME_ROK
    or a refusal outside RETRY; stays bound for receipts until `close()`.

    `pace()` caps accepted plus outstanding submissions (a test keeps SMPP in step with
    other traffic with it, calling `kick()` when the cap may have risen)."""

    def __init__(
        self,
        gw: GatewayProcess,
        *,
        system_id: str,
        password: str,
        count: int,
        make: Callable[[int, int, int], SubmitSm],
        window: int,
        pace: Callable[[], int] = lambda: 1 << 30,
    ) -> None:
        self.gw = gw
        self.system_id = system_id
        self.password = password
        self.make = make
        self.window = window
        self.count = count
        self.todo: deque[int] = deque(range(count))
        self.pace = pace
        self.record = EsmeRecord()
        self.bound_port = 0  # the SMPP port of the process bound to now (0: none)
        self.all_answered = asyncio.Event()
        self._link: _Link | None = None
        self._stopping = False

    # -- the connection loop ---------------------------------------------------------------

    async def run(self) -> None:
        """Connect, bind, submit; after each lost bind, again with the next process."""
        loop = asyncio.get_running_loop()
        while not self._stopping:
            await self.gw.up.wait()
            port = self.gw.smpp_port
            try:
                _transport, link = await loop.create_connection(
                    lambda: _Link(self), "127.0.0.1", port
                )
            except OSError:
                self._check_alive(port)
                continue
            self._link = link
            try:
                await self._bind(link)
            except ConnectionError:
                self._link = None
                link.close()
                continue
            self.bound_port = port
            self.record.changed.set()
            out: list[bytes] = []
            self.pump(link, out)
            link.write(out)
            await link.closed
            self._lost(link)

    def _check_alive(self, port: int) -> None:
        # A refused connect is expected only from a process being killed (`up` is cleared
        # before the signal); a live process that refuses is a failure of the gateway.
        proc = self.gw.proc
        if self.gw.up.is_set() and self.gw.smpp_port == port and proc and proc.returncode is None:
            raise AssertionError(f"the gateway refused an SMPP connection on port {port}")

    async def _bind(self, link: _Link) -> None:
        try:
            await link.bind(self.system_id, self.password, WAIT_S)
        except BindRefused as exc:
            raise AssertionError(str(exc)) from exc
        self.record.binds += 1

    def _lost(self, link: _Link) -> None:
        self.bound_port = 0
        self._link = None
        if self._stopping:
            return
        self.record.lost_binds += 1
        # Unanswered submits go first again, in the order they were sent.
        cut = [link.outstanding[seq] for seq in sorted(link.outstanding)]
        link.outstanding.clear()
        self.record.cut.update(cut)
        self.todo.extendleft(reversed(cut))
        self.record.changed.set()

    async def close(self) -> None:
        """Unbind and end the connection loop."""
        self._stopping = True
        link = self._link
        if link is None or not link.bound:
            return
        await link.unbind(WAIT_S)

    # -- traffic -----------------------------------------------------------------------------

    def pump(self, link: _Link, out: list[bytes]) -> None:
        """Fill the window with the next submissions, as far as `pace()` allows."""
        conn = link.conn
        limit = self.pace() - len(self.record.accepted)
        while (
            self.todo
            and conn.window_available > 0
            and len(link.outstanding) < limit
            and not self._stopping
        ):
            index = self.todo.popleft()
            self.record.attempts[index] += 1
            seq = conn.next_sequence()
            out.append(conn.send(self.make(index, self.record.attempts[index], seq)))
            link.outstanding[seq] = index

    def kick(self) -> None:
        """`pace()` may allow more now: fill the window."""
        link = self._link
        if link is not None and link.bound:
            out: list[bytes] = []
            self.pump(link, out)
            link.write(out)

    def answered(self, index: int, resp: SubmitSmResp) -> None:
        status = resp.command_status
        if status == CommandStatus.ESME_ROK:
            self.record.accepted[index] = resp.message_id
        elif status in RETRY:
            self.record.retried[status] += 1
            self.todo.appendleft(index)
        else:
            self.record.refused[index] = status
        if len(self.record.accepted) + len(self.record.refused) == self.count:
            self.all_answered.set()
        self.record.changed.set()

    def delivered(self, pdu: DeliverSm) -> None:
        if not pdu.esm_class & EsmClass.DELIVERY_RECEIPT:
            self.record.other_deliver_sm += 1
            return
        rid = tlv_value(pdu.tlvs, TlvTag.RECEIPTED_MESSAGE_ID)
        state = tlv_value(pdu.tlvs, TlvTag.MESSAGE_STATE)
        text = parse_receipt(pdu.short_message)
        if text is None or text.id != rid:
            self.record.violations.append(f"receipt text {pdu.short_message!r} for {rid!r}")
        self.record.receipts[rid if isinstance(rid, str) else ""] += 1
        self.record.receipt_states[state if isinstance(state, int) else -1] += 1
        self.record.changed.set()

    async def wait(self, predicate: Callable[[EsmeRecord], bool], timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while not predicate(self.record):
                self.record.changed.clear()
                await self.record.changed.wait()

"""One ESME connection to the simulated SMSC: a thin `asyncio.Protocol` around the pure
`smsgate.smpp.Connection` (SMSC role). What the commands do is the simulator's business."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from smsgate.smpp.codec import encode
from smsgate.smpp.connection import CLOSED, NEED_DATA, Connection
from smsgate.smpp.constants import CommandStatus
from smsgate.smpp.errors import ProtocolViolation, SmppError
from smsgate.smpp.pdu import (
    BindReceiver,
    BindTransceiver,
    BindTransmitter,
    DataSm,
    DeliverSm,
    EnquireLink,
    GenericNack,
    Pdu,
    QuerySm,
    SubmitSm,
    Unbind,
)
from smsgate.smpp.states import Role

if TYPE_CHECKING:
    from smsgate.simulators.smsc import SmscSimulator

__all__ = ["SmscSession"]

log = logging.getLogger(__name__)

DeliverCallback = Callable[[Pdu | None], None]


class SmscSession(asyncio.Protocol):
    """The SMSC side of one TCP connection; `can_receive` once bound as receiver/transceiver."""

    def __init__(self, sim: SmscSimulator, *, window: int, max_frame_size: int) -> None:
        self._sim = sim
        self._loop = asyncio.get_running_loop()
        self._conn = Connection(Role.SMSC, window=window, max_frame_size=max_frame_size)
        self._transport: asyncio.Transport | None = None
        self._out: list[bytes] = []
        self._flush_handle: asyncio.Handle | None = None
        self._pending: dict[int, tuple[DeliverCallback, asyncio.TimerHandle]] = {}
        self.system_id: str | None = None
        self.can_receive = False
        self.can_transmit = False
        self.unanswered_submits = 0  # submit_sm received, resp not yet sent

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses but have the same API.
        self._transport = cast(asyncio.Transport, transport)
        self._sim.session_opened(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        pending, self._pending = self._pending, {}
        for callback, timer in pending.values():
            timer.cancel()
            callback(None)
        self._sim.session_closed(self)

    def data_received(self, data: bytes) -> None:
        try:
            self._conn.receive_data(data)
        except SmppError:
            self.abort()
            return
        # Not a frame more once closing: what a dropped link had not read yet is lost.
        while self.is_open:
            try:
                event = self._conn.next_event()
            except ProtocolViolation as exc:
                self._sim.violations += 1
                if exc.fatal:
                    if exc.reply is not None:
                        self._write(encode(exc.reply))
                    self.close()
                elif exc.reply is not None:
                    # Written with the codec: the state table forbids e.g. a submit_sm_resp
                    # before the bind, yet refusing that submit_sm is exactly what we do.
                    self._write(encode(exc.reply))
                continue
            if event is NEED_DATA:
                break
            if event is CLOSED:
                self.close()
                break
            self._dispatch(event)

    # -- sending ---------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._transport is not None and not self._transport.is_closing()

    @property
    def window_available(self) -> int:
        return self._conn.window_available

    def send(self, pdu: Pdu) -> None:
        if self.is_open:
            try:
                self._write(self._conn.send(pdu))
            except SmppError:
                log.warning("simulator: cannot send %s now", type(pdu).__name__)

    def _write(self, data: bytes) -> None:
        self._out.append(data)
        if self._flush_handle is None:
            self._flush_handle = self._loop.call_soon(self._flush)

    def deliver(self, pdu: DeliverSm, callback: DeliverCallback, timeout: float) -> bool:
        """Send a deliver_sm; `callback` gets the deliver_sm_resp, or None (timeout / lost)."""
        if not self.is_open:
            return False
        self._write(self._conn.send(pdu))
        timer = self._loop.call_later(timeout, self._expire, pdu.sequence_number)
        self._pending[pdu.sequence_number] = (callback, timer)
        return True

    def next_sequence(self) -> int:
        return self._conn.next_sequence()

    def close(self) -> None:
        if self._transport is not None:
            self._flush()
            self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    # -- internals -------------------------------------------------------------------------

    def _flush(self) -> None:
        self._flush_handle = None
        if self._out and self._transport is not None:
            self._sim.flush_journal()
            self._transport.write(b"".join(self._out))
        self._out.clear()

    def _expire(self, seq: int) -> None:
        entry = self._pending.pop(seq, None)
        if entry is not None:
            self._conn.forget(seq)
            entry[0](None)

    def _dispatch(self, pdu: Pdu) -> None:
        sim = self._sim
        sim.pdus_received += 1
        sim.notify()
        if pdu.command_id.is_response:
            entry = self._pending.pop(pdu.sequence_number, None)
            if entry is not None:
                entry[1].cancel()
                entry[0](pdu)
        elif isinstance(pdu, BindTransmitter | BindReceiver | BindTransceiver):
            status = sim.check_bind(pdu.system_id, pdu.password)
            self.send(pdu.make_resp(command_status=status, system_id=sim.name))
            if status == CommandStatus.ESME_ROK:
                self.system_id = pdu.system_id
                self.can_transmit = not isinstance(pdu, BindReceiver)
                self.can_receive = not isinstance(pdu, BindTransmitter)
                sim.session_bound(self)
        elif isinstance(pdu, SubmitSm | DataSm):
            self.unanswered_submits += 1
            sim.on_submit(self, pdu)
        elif isinstance(pdu, QuerySm):
            self.send(sim.on_query(pdu))
        elif isinstance(pdu, EnquireLink):
            sim.enquire_links += 1
            if sim.config.answer_enquire_link:
                self.send(pdu.make_resp())
        elif isinstance(pdu, Unbind):
            self._sim.unbinds += 1
            self.send(pdu.make_resp())
            self.can_receive = self.can_transmit = False
            self.close()
        else:
            self.send(
                GenericNack(
                    sequence_number=pdu.sequence_number,
                    command_status=CommandStatus.ESME_RINVCMDID,
                )
            )

    def answer_submit(self, resp: Pdu) -> None:
        """Send a submit_sm_resp / data_sm_resp (possibly later than the request came)."""
        self.unanswered_submits -= 1
        self.send(resp)

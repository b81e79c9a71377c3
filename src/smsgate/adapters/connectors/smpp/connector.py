"""`SmppConnector`: an SMPP 3.4 client (ESME) that keeps a bind up and submits parts.

The first implementation of `WindowedConnector` (connectors/base.py: the ordered queue,
window, pacing, throttling pause, rebinding and resends). This module speaks SMPP: it binds
(transceiver, or transmitter + receiver), turns each part into a submit_sm (messages.py; the
session writes everything produced in one loop iteration at once), reads submit_sm_resp
statuses as outcomes (ESME_RTHROTTLED pauses; SMPP 3.4 §5.1.3 temporary statuses are
TRANSIENT), and hands receipts (mapped to domain statuses, receipts.py) and inbound messages
to the gateway before it answers deliver_sm.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from smsgate.adapters.connectors.base import (
    ConnectorStats,
    ConnectRefused,
    QueuedPart,
    WindowedConnector,
)
from smsgate.adapters.connectors.pacing import mask_number
from smsgate.adapters.connectors.smpp.messages import (
    InboundDecodeError,
    build_submit_sm,
    is_receipt,
    to_inbound,
    to_receipt,
)
from smsgate.adapters.connectors.smpp.session import SmppClientSession
from smsgate.services.ports import ConnectorEvents, OutcomeKind
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
    source_ton: int | None = None  # override the TON/NPI derived from the sender
    source_npi: int | None = None
    id_format: IdFormat = "auto"  # how the SMSC writes message ids (for receipt matching)
    unbind_timeout: float = 2.0
    max_frame_size: int = 65536


def _status_name(status: int) -> str:
    try:
        return CommandStatus(status).name
    except ValueError:
        return f"0x{status:08X}"


class SmppConnector(WindowedConnector[SmppConnectorConfig, SmppClientSession]):
    """Implements `services.ports.Connector` over SMPP 3.4 (see the module docstring)."""

    def __init__(self, *, config: SmppConnectorConfig, events: ConnectorEvents) -> None:
        super().__init__(config=config, events=events)
        self._sessions: list[SmppClientSession] = []

    # -- sending ---------------------------------------------------------------------------

    def _send(self, link: SmppClientSession, request: QueuedPart) -> None:
        try:
            pdu = build_submit_sm(
                request.part,
                link.next_sequence(),
                system_type_service="",
                source_ton=self.config.source_ton,
                source_npi=self.config.source_npi,
            )
            sent = link.request(pdu, lambda resp, why: self._answered(request, resp, why, link))
        except SmppError:
            # The part itself cannot be encoded (e.g. an over-long address): our input is bad.
            self._finish(request, OutcomeKind.PERMANENT, error="encode_error")
            return
        if sent:
            self._counters.submitted += 1
        else:
            self._requeue(request)

    def _answered(
        self, request: QueuedPart, resp: Pdu | None, reason: str, session: SmppClientSession
    ) -> None:
        if resp is None:
            self._unanswered(request, reason, session)
            return
        status = resp.command_status
        if status == CommandStatus.ESME_ROK and isinstance(resp, SubmitSmResp):
            self._accepted(request, resp.message_id)
        elif status == CommandStatus.ESME_RTHROTTLED:
            self._throttled(request, status)
        elif status in TEMPORARY_STATUSES or status == CommandStatus.ESME_ROK:
            self._refused(request, OutcomeKind.TRANSIENT, status, _status_name(status))
        else:
            self._refused(request, OutcomeKind.PERMANENT, status, _status_name(status))

    # -- link lifecycle --------------------------------------------------------------------

    async def _connect(self) -> SmppClientSession:
        if self.config.bind == "transceiver":
            return await self._open(BindTransceiver, "trx")
        tx = await self._open(BindTransmitter, "tx")
        await self._open(BindReceiver, "rx")
        return tx

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
            raise ConnectRefused(_status_name(resp.command_status))
        if kind is not BindReceiver:
            log.info("%s: bound to %s:%d", self.name, cfg.host, cfg.port)
        return session

    def _close_links(self) -> None:
        for session in self._sessions:
            session.close()
        self._sessions.clear()

    async def _unbind(self, wait: float) -> None:
        sessions = list(self._sessions)
        if sessions:
            await asyncio.gather(*(s.unbind(wait) for s in sessions))

    # -- SessionOwner ----------------------------------------------------------------------

    def session_lost(self, session: SmppClientSession) -> None:
        if session in self._sessions:
            self._link_lost()

    def session_writable(self, session: SmppClientSession) -> None:
        if session is self._tx:
            self._pump_soon()

    def session_deliver(self, session: SmppClientSession, pdu: DeliverSm | DataSm) -> None:
        session.handler_started()
        self._spawn_handler(self._deliver(session, pdu))

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


def _mask(pdu: DeliverSm | DataSm) -> str:
    return mask_number(pdu.source_addr)

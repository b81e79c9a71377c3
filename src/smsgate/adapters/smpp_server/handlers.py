"""What the server does with each request an ESME sends (SMPP 3.4 §4), once the pure
Connection has accepted it for the session's state.

Cheap commands (enquire_link, refusals, throttling) are answered inline; the ones that need
the gateway (bind, submit_sm, data_sm, query_sm, cancel_sm, replace_sm) run as concurrent
handler tasks that call the hooks and write their response when they finish.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from smsgate.adapters.smpp_server.errors import BindRefused
from smsgate.adapters.smpp_server.hooks import (
    BindRequest,
    BindType,
    BoundAccount,
    QueryResult,
    SessionInfo,
    SubmitResult,
)
from smsgate.smpp.constants import INTERFACE_VERSION, CommandStatus, TlvTag
from smsgate.smpp.pdu import (
    BindReceiver,
    BindTransceiver,
    BindTransmitter,
    CancelSm,
    DataSm,
    EnquireLink,
    GenericNack,
    Pdu,
    QuerySm,
    ReplaceSm,
    SubmitSm,
    Unbind,
)
from smsgate.smpp.tlv import Tlv

if TYPE_CHECKING:
    from smsgate.adapters.smpp_server.session import ServerSession

log = logging.getLogger("smsgate.smpp_server")

_S = CommandStatus
_BIND_TYPES: dict[type[Pdu], BindType] = {
    BindTransmitter: "transmitter",
    BindReceiver: "receiver",
    BindTransceiver: "transceiver",
}


class Dispatcher:
    """Routes the PDUs of one session to their handlers."""

    def __init__(self, session: ServerSession) -> None:
        self.s = session

    def dispatch(self, pdu: Pdu) -> None:
        s = self.s
        if pdu.command_id.is_response:
            # An answer to our own enquire_link says the link works, not that the client is
            # active: it does not reset the idle clock.
            if not isinstance(pdu, EnquireLink.response_class):
                s.last_heard = s.last_rx
            if s.outbound.resolve(pdu):
                s.outbound.slot_freed()
            return
        s.last_heard = s.last_rx
        if isinstance(pdu, SubmitSm | DataSm):
            self._submit(pdu)
        elif isinstance(pdu, EnquireLink):
            s.respond(pdu, pdu.make_resp())
        elif isinstance(pdu, QuerySm | CancelSm | ReplaceSm):
            s.start(self._run_query_like(pdu))
        elif isinstance(pdu, BindTransmitter | BindReceiver | BindTransceiver):
            self._bind(pdu)
        elif isinstance(pdu, Unbind):
            self._unbind(pdu)
        else:
            # submit_multi (and anything else the table lets through) is not offered here.
            s.respond(
                pdu,
                GenericNack(sequence_number=pdu.sequence_number, command_status=_S.ESME_RINVCMDID),
            )

    # -- bind / unbind (§4.1, §4.2) ---------------------------------------------------------

    def _bind(self, pdu: BindTransmitter | BindReceiver | BindTransceiver) -> None:
        s = self.s
        s.binding = True  # nothing else is read until this bind is answered
        if not s.host.bind_attempt_allowed(s.peer[0]):
            log.warning("%s: bind budget of this address spent, closing", s.label)
            s.respond(pdu, pdu.make_resp(command_status=_S.ESME_RBINDFAIL))
            s.close()
            return
        s.start(self._run_bind(pdu))

    async def _run_bind(self, pdu: BindTransmitter | BindReceiver | BindTransceiver) -> None:
        s = self.s
        bind_type = _BIND_TYPES[type(pdu)]
        try:
            status, account = await self._authenticate(pdu, bind_type)
            if s.transport is None:
                return
            if account is not None and not s.host.register_bind(s, account):
                log.warning("%s: account at its bind limit (%d)", s.label, account.max_binds)
                status, account = _S.ESME_RBINDFAIL, None
            if account is None:
                s.respond(pdu, pdu.make_resp(command_status=status))
                return
            tlvs: tuple[Tlv, ...] = ()
            if pdu.interface_version >= INTERFACE_VERSION:  # §4.1.2: sc_interface_version
                tlvs = (Tlv.int(TlvTag.SC_INTERFACE_VERSION, INTERFACE_VERSION),)
            s.respond(pdu, pdu.make_resp(system_id=s.config.system_id, tlvs=tlvs))
            info = SessionInfo(
                session_id=s.session_id, account=account, bind_type=bind_type, peer=s.peer, link=s
            )
            s.bound(info, account)
            log.info("%s: bound as %s", s.label, bind_type)
            try:
                s.hooks.session_bound(info)
            except Exception as exc:  # a hook bug must not break the session
                log.error("%s: session_bound hook failed: %s", s.label, type(exc).__name__)
        finally:
            s.binding = False
            s.kick()

    async def _authenticate(
        self, pdu: BindTransmitter | BindReceiver | BindTransceiver, bind_type: BindType
    ) -> tuple[int, BoundAccount | None]:
        s = self.s
        req = BindRequest(
            system_id=pdu.system_id,
            password=pdu.password,
            bind_type=bind_type,
            system_type=pdu.system_type,
            peer_ip=s.peer[0],
            interface_version=pdu.interface_version,
            address_range=pdu.address_range,
        )
        try:
            return _S.ESME_ROK, await s.hooks.authenticate(req)
        except BindRefused as exc:
            # One answer for every refusal: a distinct status would tell a valid system_id
            # from an unknown one, or confirm a password from outside the allow-list. The
            # reason is for our log only (system_id, never the password).
            log.info("%s: bind as %r refused: %s (0x%X)", s.label, req.system_id, exc, exc.status)
            return _S.ESME_RBINDFAIL, None
        except Exception as exc:  # the text may hold the password: log the type only
            log.error("%s: authenticate hook failed: %s", s.label, type(exc).__name__)
            return _S.ESME_RBINDFAIL, None

    def _unbind(self, pdu: Unbind) -> None:
        # §4.2: answer unbind_resp, then the connection ends. Requests in flight are
        # answered first; nothing more is read and no more deliver_sm goes out.
        s = self.s
        s.unbinding = True
        s.outbound.close("unbound")
        s.report_closed()
        log.info("%s: unbind from the client", s.label)

        def answer() -> None:
            s.respond(pdu, pdu.make_resp())
            s.close()

        s.after_quiet(answer)

    # -- submit_sm / data_sm (§4.4, §4.7) ---------------------------------------------------

    def _submit(self, pdu: SubmitSm | DataSm) -> None:
        s = self.s
        account = s.account
        if account is None:  # unreachable: the state table admits submits only when bound
            s.respond(pdu, pdu.make_resp(command_status=_S.ESME_RINVBNDSTS))
        elif not s.host.submit_allowed(account):
            s.respond(pdu, pdu.make_resp(command_status=_S.ESME_RTHROTTLED))
        else:
            s.start(self._run_submit(pdu))

    async def _run_submit(self, pdu: SubmitSm | DataSm) -> None:
        s = self.s
        assert s.info is not None  # bound: see _submit
        try:
            result = await s.hooks.submit(s.info, pdu)
        except Exception as exc:  # the text may hold numbers: log the type only
            log.error("%s: submit hook failed: %s", s.label, type(exc).__name__)
            result = SubmitResult(status=_S.ESME_RSYSERR)
        if result.status == _S.ESME_ROK:
            s.respond(pdu, pdu.make_resp(message_id=result.message_id))
        else:
            s.respond(pdu, pdu.make_resp(command_status=result.status))

    # -- query_sm / cancel_sm / replace_sm (§4.8-§4.10) -------------------------------------

    async def _run_query_like(self, pdu: QuerySm | CancelSm | ReplaceSm) -> None:
        s = self.s
        assert s.info is not None  # the state table admits these only when bound
        name = type(pdu).__name__
        try:
            if isinstance(pdu, QuerySm):
                result = await s.hooks.query(s.info, pdu)
                if isinstance(result, QueryResult):
                    s.respond(
                        pdu,
                        pdu.make_resp(
                            message_id=pdu.message_id,
                            final_date=result.final_date,
                            message_state=int(result.message_state),
                            error_code=result.error_code,
                        ),
                    )
                    return
                status = int(result)
            elif isinstance(pdu, CancelSm):
                status = int(await s.hooks.cancel(s.info, pdu))
            else:
                status = int(await s.hooks.replace(s.info, pdu))
        except Exception as exc:
            log.error("%s: %s hook failed: %s", s.label, name, type(exc).__name__)
            status = _S.ESME_RSYSERR
        s.respond(pdu, pdu.make_resp(command_status=status))

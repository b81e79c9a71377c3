"""The SMPP 3.4 session state machine as one table (§2.2, §2.3 Table 2-1, §2.4).

`RULES[command_id] = (states in which the ESME may send it, states in which the SMSC may
send it)`; receiving is allowed exactly when the peer's role may send it. `TRANSITIONS` moves
the session when a PDU passes in either direction. Everything else in `Connection` is
bookkeeping around these two tables.

Deliberate choices where SMPP 3.4 is loose:
* enquire_link is also accepted in OPEN (SMPP 5.0 §2.4 allows it and SMSCs send it early);
* responses stay valid in UNBOUND: an unbind may cross requests still in flight, whose
  responses still arrive (§4.2 says the session ends only after unbind_resp);
* generic_nack may flow either way in any state but CLOSED (§4.3).
"""

from __future__ import annotations

from enum import StrEnum

from smsgate.smpp.constants import CommandId as C
from smsgate.smpp.constants import CommandStatus


class SessionState(StrEnum):
    """Where an SMPP session is (§2.2)."""

    OPEN = "open"  # connected, not bound yet
    BOUND_TX = "bound_tx"
    BOUND_RX = "bound_rx"
    BOUND_TRX = "bound_trx"
    UNBOUND = "unbound"  # an unbind was sent or received; only responses may follow
    CLOSED = "closed"  # the byte stream is finished (peer EOF or a fatal framing error)


class Role(StrEnum):
    """Which end of the session this Connection is."""

    ESME = "esme"
    SMSC = "smsc"


_S = SessionState
_NONE: frozenset[SessionState] = frozenset()
OPEN = frozenset({_S.OPEN})
TX = frozenset({_S.BOUND_TX, _S.BOUND_TRX})  # ESME may submit (§2.3)
RX = frozenset({_S.BOUND_RX, _S.BOUND_TRX})  # SMSC may deliver (§2.3)
BOUND = TX | RX
_LATE = frozenset({_S.UNBOUND})  # responses to requests that crossed an unbind

# command_id: (ESME may send in, SMSC may send in)  -- SMPP 3.4 §2.3 Table 2-1
RULES: dict[C, tuple[frozenset[SessionState], frozenset[SessionState]]] = {
    # §4.1: binding happens in OPEN; only the ESME binds, only the SMSC answers and outbinds.
    C.BIND_TRANSMITTER: (OPEN, _NONE),
    C.BIND_TRANSMITTER_RESP: (_NONE, OPEN),
    C.BIND_RECEIVER: (OPEN, _NONE),
    C.BIND_RECEIVER_RESP: (_NONE, OPEN),
    C.BIND_TRANSCEIVER: (OPEN, _NONE),
    C.BIND_TRANSCEIVER_RESP: (_NONE, OPEN),
    C.OUTBIND: (_NONE, OPEN),  # §4.1.7
    # §4.2: either side may unbind a bound session.
    C.UNBIND: (BOUND, BOUND),
    C.UNBIND_RESP: (_LATE, _LATE),
    # §4.3
    C.GENERIC_NACK: (OPEN | BOUND | _LATE, OPEN | BOUND | _LATE),
    # §4.4, §4.5, §4.8-§4.10: ESME → SMSC in BOUND_TX / BOUND_TRX.
    C.SUBMIT_SM: (TX, _NONE),
    C.SUBMIT_SM_RESP: (_NONE, TX | _LATE),
    C.SUBMIT_MULTI: (TX, _NONE),
    C.SUBMIT_MULTI_RESP: (_NONE, TX | _LATE),
    C.QUERY_SM: (TX, _NONE),
    C.QUERY_SM_RESP: (_NONE, TX | _LATE),
    C.CANCEL_SM: (TX, _NONE),
    C.CANCEL_SM_RESP: (_NONE, TX | _LATE),
    C.REPLACE_SM: (TX, _NONE),
    C.REPLACE_SM_RESP: (_NONE, TX | _LATE),
    # §4.6, §4.12: SMSC → ESME in BOUND_RX / BOUND_TRX.
    C.DELIVER_SM: (_NONE, RX),
    C.DELIVER_SM_RESP: (RX | _LATE, _NONE),
    C.ALERT_NOTIFICATION: (_NONE, RX),
    # §4.7: data_sm flows ESME → SMSC when the ESME transmits, SMSC → ESME when it receives.
    C.DATA_SM: (TX, RX),
    C.DATA_SM_RESP: (RX | _LATE, TX | _LATE),
    # §4.11: either side, any bound state (and OPEN, see above).
    C.ENQUIRE_LINK: (OPEN | BOUND, OPEN | BOUND),
    C.ENQUIRE_LINK_RESP: (OPEN | BOUND | _LATE, OPEN | BOUND | _LATE),
}

# command_id → state after it passes. Bind responses move only with command_status 0
# (§4.1.2: a failed bind leaves the session OPEN so the ESME may try again).
TRANSITIONS: dict[C, SessionState] = {
    C.BIND_TRANSMITTER_RESP: _S.BOUND_TX,
    C.BIND_RECEIVER_RESP: _S.BOUND_RX,
    C.BIND_TRANSCEIVER_RESP: _S.BOUND_TRX,
    C.UNBIND: _S.UNBOUND,
    C.UNBIND_RESP: _S.UNBOUND,
}
_BIND_RESPONSES = frozenset(
    {C.BIND_TRANSMITTER_RESP, C.BIND_RECEIVER_RESP, C.BIND_TRANSCEIVER_RESP}
)
_BINDS = frozenset({C.BIND_TRANSMITTER, C.BIND_RECEIVER, C.BIND_TRANSCEIVER})


def may_send(role: Role, state: SessionState, command_id: C) -> bool:
    """Whether `role` may send `command_id` in `state`."""
    esme, smsc = RULES[command_id]
    return state in (esme if role is Role.ESME else smsc)


def next_state(state: SessionState, command_id: C, command_status: int) -> SessionState:
    """The session state after a PDU with `command_id` passed (sent or received)."""
    target = TRANSITIONS.get(command_id)
    if target is None or (command_id in _BIND_RESPONSES and command_status != 0):
        return state
    return target


def refusal_status(sender: Role, state: SessionState, command_id: C) -> CommandStatus:
    """The command_status answering a request `sender` may not send in `state`."""
    esme, smsc = RULES[command_id]
    if not (esme if sender is Role.ESME else smsc):
        return CommandStatus.ESME_RINVCMDID  # that side never sends this command
    if command_id in _BINDS and state in BOUND:
        return CommandStatus.ESME_RALYBND  # §4.1: bind while bound
    return CommandStatus.ESME_RINVBNDSTS

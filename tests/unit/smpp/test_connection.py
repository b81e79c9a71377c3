"""Connection: the state table through the public API, windows, sequence numbers, framing
and peer violations. No sockets: bytes go from one Connection to the other."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from smsgate.smpp import (
    CLOSED,
    NEED_DATA,
    PDU_CLASSES,
    AlertNotification,
    BindReceiver,
    BindReceiverResp,
    BindTransceiver,
    BindTransmitter,
    BindTransmitterResp,
    CommandId,
    CommandStatus,
    Connection,
    DataSm,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    LocalProtocolError,
    Outbind,
    Pdu,
    PduEncodeError,
    ProtocolViolation,
    QuerySm,
    Role,
    SessionState,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnbindResp,
    WindowFull,
    encode,
)
from smsgate.smpp.states import RULES, may_send, next_state, refusal_status

S = SessionState
C = CommandId
ST = CommandStatus

# SMPP 3.4 Table 2-1, read per state: what each side may SEND there.
_ESME_TX = {C.SUBMIT_SM, C.SUBMIT_MULTI, C.QUERY_SM, C.CANCEL_SM, C.REPLACE_SM, C.DATA_SM}
_ESME_RX = {C.DELIVER_SM_RESP, C.DATA_SM_RESP}
_SMSC_TX = {C.SUBMIT_SM_RESP, C.SUBMIT_MULTI_RESP, C.QUERY_SM_RESP, C.CANCEL_SM_RESP,
            C.REPLACE_SM_RESP, C.DATA_SM_RESP}  # fmt: skip
_SMSC_RX = {C.DELIVER_SM, C.DATA_SM, C.ALERT_NOTIFICATION}
_LINK = {C.ENQUIRE_LINK, C.ENQUIRE_LINK_RESP, C.GENERIC_NACK}
_BOUND_BOTH = _LINK | {C.UNBIND}
EXPECTED: dict[tuple[Role, SessionState], set[CommandId]] = {
    (Role.ESME, S.OPEN): {C.BIND_TRANSMITTER, C.BIND_RECEIVER, C.BIND_TRANSCEIVER} | _LINK,
    (Role.SMSC, S.OPEN): {
        C.BIND_TRANSMITTER_RESP,
        C.BIND_RECEIVER_RESP,
        C.BIND_TRANSCEIVER_RESP,
        C.OUTBIND,
    }
    | _LINK,
    (Role.ESME, S.BOUND_TX): _ESME_TX | _BOUND_BOTH,
    (Role.ESME, S.BOUND_RX): _ESME_RX | _BOUND_BOTH,
    (Role.ESME, S.BOUND_TRX): _ESME_TX | _ESME_RX | _BOUND_BOTH,
    (Role.SMSC, S.BOUND_TX): _SMSC_TX | _BOUND_BOTH,
    (Role.SMSC, S.BOUND_RX): _SMSC_RX | _BOUND_BOTH,
    (Role.SMSC, S.BOUND_TRX): _SMSC_TX | _SMSC_RX | _BOUND_BOTH,
    # after an unbind crossed: only responses still flow
    (Role.ESME, S.UNBOUND): {C.UNBIND_RESP, C.GENERIC_NACK, C.ENQUIRE_LINK_RESP} | _ESME_RX,
    (Role.SMSC, S.UNBOUND): {C.UNBIND_RESP, C.GENERIC_NACK, C.ENQUIRE_LINK_RESP} | _SMSC_TX,
    (Role.ESME, S.CLOSED): set(),
    (Role.SMSC, S.CLOSED): set(),
}
ALL = list(itertools.product(Role, SessionState, CommandId))


def test_table_lists_every_command() -> None:
    assert set(RULES) == set(CommandId)


@pytest.mark.parametrize(("role", "state", "command"), ALL)
def test_state_table(role: Role, state: SessionState, command: CommandId) -> None:
    assert may_send(role, state, command) == (command in EXPECTED[role, state])


@pytest.mark.parametrize(
    ("state", "command", "status", "after"),
    [
        (S.OPEN, C.BIND_TRANSMITTER_RESP, 0, S.BOUND_TX),
        (S.OPEN, C.BIND_RECEIVER_RESP, 0, S.BOUND_RX),
        (S.OPEN, C.BIND_TRANSCEIVER_RESP, 0, S.BOUND_TRX),
        (S.OPEN, C.BIND_TRANSCEIVER_RESP, ST.ESME_RBINDFAIL, S.OPEN),
        (S.BOUND_TRX, C.UNBIND, 0, S.UNBOUND),
        (S.UNBOUND, C.UNBIND_RESP, 0, S.UNBOUND),
        (S.BOUND_TX, C.SUBMIT_SM, 0, S.BOUND_TX),
    ],
)
def test_transitions(state: S, command: C, status: int, after: S) -> None:
    assert next_state(state, command, status) is after


# --- helpers ---------------------------------------------------------------------------


def _bind_class(state: SessionState) -> type[Pdu]:
    return {S.BOUND_TX: BindTransmitter, S.BOUND_RX: BindReceiver}.get(state, BindTransceiver)


def pair(state: SessionState = S.BOUND_TRX, **kw: Any) -> tuple[Connection, Connection]:
    """(esme, smsc) connections in `state`, talking through bytes."""
    esme, smsc = Connection(Role.ESME, **kw), Connection(Role.SMSC, **kw)
    if state is S.OPEN:
        return esme, smsc
    if state is S.CLOSED:
        for c in (esme, smsc):
            c.receive_data(b"")
            assert c.next_event() is CLOSED
        return esme, smsc
    bind = _bind_class(state)(sequence_number=esme.next_sequence(), system_id="u", password="p")
    request = transfer(esme, smsc, bind)
    transfer(smsc, esme, request.make_resp(system_id="smsc"))  # type: ignore[union-attr]
    if state is S.UNBOUND:
        transfer(esme, smsc, Unbind(sequence_number=esme.next_sequence()))
    assert esme.state is state
    assert smsc.state is state
    return esme, smsc


def transfer(sender: Connection, receiver: Connection, pdu: Pdu) -> Pdu:
    receiver.receive_data(sender.send(pdu))
    event = receiver.next_event()
    assert receiver.next_event() is NEED_DATA
    assert isinstance(event, type(pdu))
    return event


def sample(command: CommandId, seq: int = 77) -> Pdu:
    return PDU_CLASSES[command](sequence_number=seq)


def _side(role: Role, esme: Connection, smsc: Connection) -> tuple[Connection, Connection]:
    return (esme, smsc) if role is Role.ESME else (smsc, esme)


# --- the table through the Connection -----------------------------------------------------


@pytest.mark.parametrize(("role", "state", "command"), ALL)
def test_send_follows_the_table(role: Role, state: SessionState, command: CommandId) -> None:
    me, _ = _side(role, *pair(state))
    pdu = sample(command, seq=1000)
    if command in EXPECTED[role, state]:
        assert me.send(pdu) == encode(pdu)
    else:
        with pytest.raises(LocalProtocolError):
            me.send(pdu)


_REQUESTS = [c for c in CommandId if not c.is_response]


@pytest.mark.parametrize(
    ("role", "state", "command"),
    [(r, s, c) for r, s, c in ALL if c in _REQUESTS and s is not S.CLOSED],
)
def test_receive_follows_the_table(role: Role, state: SessionState, command: CommandId) -> None:
    """`role` receives a request from its peer in `state`."""
    me, _ = _side(role, *pair(state))
    peer = Role.SMSC if role is Role.ESME else Role.ESME
    pdu = sample(command)
    me.receive_data(encode(pdu))
    if command in EXPECTED[peer, state]:
        assert me.next_event() == pdu
        return
    with pytest.raises(ProtocolViolation) as info:
        me.next_event()
    exc = info.value
    assert exc.status == refusal_status(peer, state, command)
    assert exc.pdu == pdu
    assert exc.reply is not None
    assert exc.reply.sequence_number == 77
    assert exc.reply.command_status == exc.status
    if exc.status == ST.ESME_RINVCMDID or command in (C.OUTBIND, C.ALERT_NOTIFICATION):
        assert isinstance(exc.reply, GenericNack)
    else:
        assert exc.reply.command_id == command | 0x80000000
    assert me.next_event() is NEED_DATA  # the session goes on


def test_refusal_statuses() -> None:
    assert refusal_status(Role.ESME, S.OPEN, C.SUBMIT_SM) == ST.ESME_RINVBNDSTS
    assert refusal_status(Role.ESME, S.BOUND_TX, C.BIND_TRANSMITTER) == ST.ESME_RALYBND
    assert refusal_status(Role.ESME, S.BOUND_TX, C.DELIVER_SM) == ST.ESME_RINVCMDID
    assert refusal_status(Role.SMSC, S.BOUND_TX, C.DELIVER_SM) == ST.ESME_RINVBNDSTS


# --- binding -------------------------------------------------------------------------------


def test_failed_bind_stays_open_and_can_retry() -> None:
    esme, smsc = pair(S.OPEN)
    bind = transfer(esme, smsc, BindTransmitter(sequence_number=esme.next_sequence()))
    resp = bind.make_resp(command_status=ST.ESME_RINVPASWD)  # type: ignore[union-attr]
    transfer(smsc, esme, resp)
    assert (esme.state, smsc.state) == (S.OPEN, S.OPEN)
    assert esme.outstanding == {}
    pair_again = transfer(esme, smsc, BindTransmitter(sequence_number=esme.next_sequence()))
    transfer(smsc, esme, pair_again.make_resp())  # type: ignore[union-attr]
    assert (esme.state, smsc.state) == (S.BOUND_TX, S.BOUND_TX)


def test_outbind_then_bind_receiver() -> None:
    esme, smsc = pair(S.OPEN)
    transfer(smsc, esme, Outbind(sequence_number=1, system_id="smsc"))
    bind = transfer(esme, smsc, BindReceiver(sequence_number=esme.next_sequence()))
    transfer(smsc, esme, bind.make_resp())  # type: ignore[union-attr]
    assert esme.state is S.BOUND_RX
    transfer(smsc, esme, AlertNotification(sequence_number=2))


def test_second_bind_response_in_bound_state_is_a_violation() -> None:
    esme, smsc = pair(S.OPEN)
    first = esme.send(BindTransmitter(sequence_number=1))
    second = esme.send(BindReceiver(sequence_number=2))
    smsc.receive_data(first + second)
    assert smsc.next_event().sequence_number == 1  # type: ignore[union-attr]
    assert smsc.next_event().sequence_number == 2  # type: ignore[union-attr]
    esme.receive_data(smsc.send(BindTransmitterResp(sequence_number=1)))
    assert isinstance(esme.next_event(), BindTransmitterResp)
    esme.receive_data(encode(BindReceiverResp(sequence_number=2)))
    with pytest.raises(ProtocolViolation) as info:
        esme.next_event()
    assert info.value.reply is None
    assert esme.outstanding == {}


def test_unbind_from_either_side_and_late_responses() -> None:
    esme, smsc = pair()
    submit = transfer(esme, smsc, SubmitSm(sequence_number=esme.next_sequence()))
    unbind = transfer(smsc, esme, Unbind(sequence_number=smsc.next_sequence()))
    assert (esme.state, smsc.state) == (S.UNBOUND, S.UNBOUND)
    transfer(smsc, esme, submit.make_resp(message_id="1"))  # type: ignore[union-attr]
    transfer(esme, smsc, unbind.make_resp())  # type: ignore[union-attr]
    assert esme.outstanding == {}
    assert smsc.outstanding == {}
    with pytest.raises(LocalProtocolError):
        esme.send(SubmitSm(sequence_number=esme.next_sequence()))


# --- windows and sequence numbers ----------------------------------------------------------


def test_window_limits_outstanding_requests() -> None:
    esme, smsc = pair(window=3)
    sent = [SubmitSm(sequence_number=esme.next_sequence()) for _ in range(3)]
    for pdu in sent:
        smsc.receive_data(esme.send(pdu))
    assert esme.window_available == 0
    with pytest.raises(WindowFull):
        esme.send(SubmitSm(sequence_number=esme.next_sequence()))
    # enquire_link and unbind get through a full window
    probe = EnquireLink(sequence_number=esme.next_sequence())
    smsc.receive_data(esme.send(probe))
    first, second, third = (p.sequence_number for p in sent)
    assert set(esme.outstanding) == {first, second, third, probe.sequence_number}
    esme.receive_data(encode(SubmitSmResp(sequence_number=second, message_id="x")))
    assert isinstance(esme.next_event(), SubmitSmResp)
    assert esme.window_available == 1
    esme.receive_data(encode(GenericNack(sequence_number=third, command_status=ST.ESME_RINVCMDLEN)))
    assert isinstance(esme.next_event(), GenericNack)
    assert esme.window_available == 2
    esme.receive_data(encode(EnquireLinkResp(sequence_number=probe.sequence_number)))
    assert isinstance(esme.next_event(), EnquireLinkResp)
    assert esme.window_available == 2
    assert esme.forget(first) == sent[0]
    assert esme.forget(first) is None
    assert esme.window_available == 3


def test_outstanding_is_read_only() -> None:
    esme, _ = pair()
    esme.send(SubmitSm(sequence_number=5))
    with pytest.raises(TypeError):
        esme.outstanding[6] = SubmitSm(sequence_number=6)  # type: ignore[index]


def test_sequence_wraps_and_skips_outstanding() -> None:
    esme, _ = pair(first_sequence=0x7FFFFFFE)
    # pair() used 0x7FFFFFFE for the bind; the next ones wrap to 1
    assert esme.next_sequence() == 0x7FFFFFFF
    esme.send(SubmitSm(sequence_number=1))
    esme.send(SubmitSm(sequence_number=2))
    assert esme.next_sequence() == 3


def test_request_sequence_numbers_are_checked() -> None:
    esme, _ = pair()
    for bad in (0, 0x80000000):
        with pytest.raises(LocalProtocolError):
            esme.send(SubmitSm(sequence_number=bad))
    esme.send(SubmitSm(sequence_number=9))
    with pytest.raises(LocalProtocolError):
        esme.send(SubmitSm(sequence_number=9))


def test_encode_error_leaves_no_outstanding_request() -> None:
    esme, _ = pair()
    with pytest.raises(PduEncodeError):
        esme.send(SubmitSm(sequence_number=4, source_addr="x" * 30))
    assert esme.outstanding == {}
    assert esme.window_available == esme.window


@pytest.mark.parametrize("kwargs", [{"window": 0}, {"max_frame_size": 15}, {"first_sequence": 0}])
def test_bad_configuration(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="must"):
        Connection(Role.ESME, **kwargs)


# --- framing --------------------------------------------------------------------------------


def _stream() -> tuple[bytes, list[Pdu]]:
    pdus: list[Pdu] = [
        DeliverSm(sequence_number=1, source_addr="123", short_message=b"hello"),
        EnquireLink(sequence_number=2),
        DataSm(sequence_number=3, destination_addr="456"),
        DeliverSm(sequence_number=4, short_message=b"x" * 200),
    ]
    return b"".join(encode(p) for p in pdus), pdus


def _drain(conn: Connection) -> list[Pdu]:
    out = []
    while (event := conn.next_event()) is not NEED_DATA:
        assert event is not CLOSED
        out.append(event)
    return out


def test_frames_split_at_every_offset() -> None:
    data, pdus = _stream()
    for cut in range(len(data) + 1):
        esme, _ = pair()
        got: list[Pdu] = []
        for chunk in (data[:cut], data[cut:]):
            if chunk:  # b"" would mean EOF
                esme.receive_data(chunk)
            got += _drain(esme)
        assert got == pdus, cut


def test_one_byte_at_a_time() -> None:
    data, pdus = _stream()
    esme, _ = pair()
    got: list[Pdu] = []
    for i in range(len(data)):
        esme.receive_data(data[i : i + 1])
        got += _drain(esme)
    assert got == pdus


def test_many_pdus_in_one_chunk_and_buffer_compaction() -> None:
    esme, smsc = pair(window=5000)
    pdus = [SubmitSm(sequence_number=i, short_message=b"m" * 100) for i in range(1, 3001)]
    data = b"".join(esme.send(p) for p in pdus)
    half = len(data) // 2 + 7  # not on a frame boundary
    smsc.receive_data(data[:half])
    got = _drain(smsc)
    smsc.receive_data(data[half:])  # compacts the consumed 200+ KB first
    got += _drain(smsc)
    assert got == pdus


@pytest.mark.parametrize(
    ("prefix", "seq"),
    [
        (bytes.fromhex("00010001"), None),  # 65537 > max, header not complete
        (bytes.fromhex("00010001 00000004 00000000 0000002a".replace(" ", "")), 42),
        (bytes.fromhex("0000000f 00000015 00000000 00000007".replace(" ", "")), 7),
        (bytes.fromhex("00000000"), None),
    ],
)
def test_bad_command_length_is_fatal(prefix: bytes, seq: int | None) -> None:
    esme, _ = pair()
    esme.receive_data(prefix)
    with pytest.raises(ProtocolViolation) as info:
        esme.next_event()
    exc = info.value
    assert exc.fatal
    assert exc.status == ST.ESME_RINVCMDLEN
    assert exc.sequence_number == seq
    assert exc.reply == GenericNack(sequence_number=seq or 0, command_status=ST.ESME_RINVCMDLEN)
    assert esme.state is S.CLOSED
    assert esme.next_event() is CLOSED
    with pytest.raises(LocalProtocolError):
        esme.send(EnquireLink(sequence_number=1))


def test_max_frame_size_is_configurable() -> None:
    esme, _ = pair(max_frame_size=100)
    esme.receive_data(encode(DeliverSm(sequence_number=1, short_message=b"x" * 60)))
    assert isinstance(esme.next_event(), DeliverSm)
    esme.receive_data(encode(DeliverSm(sequence_number=2, short_message=b"x" * 80)))
    with pytest.raises(ProtocolViolation):
        esme.next_event()


def test_unknown_command_id_gets_generic_nack_and_the_session_goes_on() -> None:
    _esme, smsc = pair()
    smsc.receive_data(bytes.fromhex("00000010 00000099 00000000 00000005".replace(" ", "")))
    smsc.receive_data(encode(EnquireLink(sequence_number=6)))
    with pytest.raises(ProtocolViolation) as info:
        smsc.next_event()
    assert info.value.status == ST.ESME_RINVCMDID
    assert info.value.reply == GenericNack(sequence_number=5, command_status=ST.ESME_RINVCMDID)
    assert not info.value.fatal
    assert smsc.next_event() == EnquireLink(sequence_number=6)


def test_malformed_request_body_is_answered_with_its_response() -> None:
    _, smsc = pair()
    good = encode(SubmitSm(sequence_number=8, source_addr="1"))
    frame = good[:18] + b"9" * 21 + good[19:]  # source_addr without NUL within 21 octets
    frame = len(frame).to_bytes(4, "big") + frame[4:]
    smsc.receive_data(frame)
    with pytest.raises(ProtocolViolation) as info:
        smsc.next_event()
    assert info.value.reply == SubmitSmResp(sequence_number=8, command_status=ST.ESME_RINVSRCADR)


def test_malformed_response_is_not_answered() -> None:
    esme, _ = pair()
    esme.send(SubmitSm(sequence_number=8))
    esme.receive_data(
        bytes.fromhex("00000014 80000004 00000000 00000008 61626364".replace(" ", ""))
    )
    with pytest.raises(ProtocolViolation) as info:
        esme.next_event()
    assert info.value.reply is None
    assert info.value.command_id == C.SUBMIT_SM_RESP


def test_malformed_outbind_is_answered_with_generic_nack() -> None:
    esme, _ = pair(S.OPEN)
    frame = bytes.fromhex("00000020 0000000b 00000000 00000003".replace(" ", "")) + b"S" * 16
    esme.receive_data(frame)
    with pytest.raises(ProtocolViolation) as info:
        esme.next_event()
    assert info.value.reply == GenericNack(sequence_number=3, command_status=ST.ESME_RINVSYSID)


@pytest.mark.parametrize(
    "response",
    [SubmitSmResp(sequence_number=99), DeliverSmResp(sequence_number=1)],
)
def test_stray_response_is_reported_not_answered(response: Pdu) -> None:
    esme, _ = pair()
    esme.send(SubmitSm(sequence_number=1))
    esme.receive_data(encode(response))
    with pytest.raises(ProtocolViolation) as info:
        esme.next_event()
    assert info.value.reply is None
    assert info.value.pdu == response
    assert set(esme.outstanding) == {1}


def test_generic_nack_for_unknown_sequence_is_delivered() -> None:
    esme, _ = pair()
    nack = GenericNack(sequence_number=0, command_status=ST.ESME_RINVCMDLEN)
    esme.receive_data(encode(nack))
    assert esme.next_event() == nack


def test_peer_close_after_pending_frames() -> None:
    esme, _ = pair()
    esme.receive_data(encode(EnquireLink(sequence_number=1)) + b"\0\0\0")
    esme.receive_data(b"")
    assert esme.next_event() == EnquireLink(sequence_number=1)
    assert esme.next_event() is CLOSED  # the partial frame is dropped
    assert esme.state is S.CLOSED
    with pytest.raises(LocalProtocolError):
        esme.receive_data(b"more")


def test_sentinels_repr() -> None:
    assert repr(NEED_DATA) == "NEED_DATA"
    assert repr(CLOSED) == "CLOSED"


def test_unbind_resp_closes_the_exchange() -> None:
    esme, smsc = pair()
    unbind = transfer(esme, smsc, Unbind(sequence_number=esme.next_sequence()))
    transfer(smsc, esme, UnbindResp(sequence_number=unbind.sequence_number))
    assert esme.state is S.UNBOUND
    with pytest.raises(LocalProtocolError):
        esme.send(QuerySm(sequence_number=esme.next_sequence()))

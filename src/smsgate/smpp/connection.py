"""A sans-I/O SMPP 3.4 session in the style of h11: bytes in, PDUs out, PDUs in, bytes out.

    conn = Connection(Role.ESME, window=10)
    sock.send(conn.send(BindTransceiver(sequence_number=conn.next_sequence(), ...)))
    conn.receive_data(sock.recv(65536))          # b"" when the peer closed
    while (event := conn.next_event()) is not NEED_DATA and event is not CLOSED:
        handle(event)                            # a decoded Pdu

The Connection owns framing (command_length, §3.2), the state table (`states.py`), the
request window and the map of our requests awaiting a response. It never reads a clock
and never touches a socket: timers, retries and reconnects live in the adapter, which may
call `forget()` when a response timer expires.

send() checks requests against the state table, the window and the outstanding map, and
responses against the state table only (the peer's requests are not tracked: answering a
request that failed to decode needs just its sequence_number, see ProtocolViolation.reply).

Peer errors surface as ProtocolViolation from next_event, carrying the status to answer
and the reply PDU to send (`exc.reply`, None when nothing must be sent):

* a frame whose command_length is below 16 or above max_frame_size is fatal: the stream
  cannot be resynchronised, the state becomes CLOSED and next_event returns CLOSED after
  raising once (send() then refuses; write `encode(exc.reply)` with the codec if wanted);
* any other bad PDU (unknown command_id → generic_nack ESME_RINVCMDID, malformed body,
  request not allowed in this state) consumes that frame only: the connection stays usable;
* a response whose sequence_number matches none of our outstanding requests (or matches a
  request of another command) is raised as ProtocolViolation with `reply=None` and the
  decoded response in `exc.pdu`; the outstanding map is left unchanged.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType
from typing import Final, Literal

from smsgate.smpp.codec import decode, encode
from smsgate.smpp.constants import CommandId, CommandStatus
from smsgate.smpp.errors import (
    FrameTooLarge,
    LocalProtocolError,
    PduDecodeError,
    ProtocolViolation,
    WindowFull,
)
from smsgate.smpp.layout import HEADER_SIZE
from smsgate.smpp.pdu import PDU_CLASSES, GenericNack, Pdu, response_for
from smsgate.smpp.states import Role, SessionState, may_send, next_state, refusal_status


class Sentinel(Enum):
    """Non-PDU results of next_event."""

    NEED_DATA = "NEED_DATA"
    CLOSED = "CLOSED"

    def __repr__(self) -> str:
        return self.value


NEED_DATA: Final = Sentinel.NEED_DATA
"""next_event has no complete PDU: call receive_data with more bytes."""
CLOSED: Final = Sentinel.CLOSED
"""The stream is finished: the peer closed it or it broke beyond repair."""
NeedData = Literal[Sentinel.NEED_DATA]
Closed = Literal[Sentinel.CLOSED]

MAX_SEQUENCE = 0x7FFFFFFF  # sequence_number range 1..0x7FFFFFFF (§5.1.4)
_LENGTH = struct.Struct(">I")
_NO_WINDOW = frozenset({CommandId.ENQUIRE_LINK, CommandId.UNBIND})  # must pass a full window
_NO_RESPONSE = frozenset({CommandId.OUTBIND, CommandId.ALERT_NOTIFICATION})
_COMPACT_AT = 1 << 16


class Connection:
    """One SMPP session seen from `role`.

    `window` bounds our outstanding requests other than enquire_link and unbind (those
    must get through a full window: a stuck window is when the link needs checking).
    """

    def __init__(
        self,
        role: Role,
        *,
        max_frame_size: int = 65536,
        window: int = 10,
        first_sequence: int = 1,
    ) -> None:
        if max_frame_size < HEADER_SIZE or window < 1:
            raise ValueError("max_frame_size must be >= 16 and window >= 1")
        if not 1 <= first_sequence <= MAX_SEQUENCE:
            raise ValueError("first_sequence must be in 1..0x7FFFFFFF")
        self.role = role
        self.peer_role = Role.SMSC if role is Role.ESME else Role.ESME
        self.max_frame_size = max_frame_size
        self.window = window
        self._state = SessionState.OPEN
        self._buf = bytearray()
        self._pos = 0
        self._eof = False
        self._last_sequence = first_sequence - 1
        self._outstanding: dict[int, Pdu] = {}
        self._windowed = 0

    # --- public read-only state -------------------------------------------------------

    @property
    def state(self) -> SessionState:
        """The session state (see states.py)."""
        return self._state

    @property
    def outstanding(self) -> Mapping[int, Pdu]:
        """Our requests awaiting a response, by sequence_number (read-only view)."""
        return MappingProxyType(self._outstanding)

    @property
    def window_available(self) -> int:
        """How many more windowed requests may be sent now."""
        return self.window - self._windowed

    def next_sequence(self) -> int:
        """A fresh sequence_number: 1..0x7FFFFFFF, wrapping, skipping outstanding ones."""
        seq = self._last_sequence
        while True:
            seq = seq + 1 if seq < MAX_SEQUENCE else 1
            if seq not in self._outstanding:
                self._last_sequence = seq
                return seq

    # --- receiving --------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Feed bytes read from the transport; b"" means the peer closed the stream."""
        if self._eof:
            raise LocalProtocolError("receive_data after the end of the stream")
        if not data:
            self._eof = True
            return
        buf, pos = self._buf, self._pos
        if pos:
            if pos == len(buf):
                buf.clear()
                self._pos = 0
            elif pos >= _COMPACT_AT:
                del buf[:pos]
                self._pos = 0
        buf += data

    def next_event(self) -> Pdu | NeedData | Closed:
        """The next PDU from the peer, NEED_DATA, or CLOSED; raises ProtocolViolation."""
        if self._state is SessionState.CLOSED:
            return CLOSED
        buf, pos = self._buf, self._pos
        available = len(buf) - pos
        if available >= 4:
            (length,) = _LENGTH.unpack_from(buf, pos)
            if length < HEADER_SIZE or length > self.max_frame_size:
                raise self._fatal_length(length, available)
            if available >= length:
                end = pos + length
                self._pos = end
                frame = bytes(buf[pos:end])
                try:
                    pdu = decode(frame)
                except PduDecodeError as exc:
                    raise _decode_violation(exc) from exc
                return self._received(pdu)
        if self._eof:
            self._state = SessionState.CLOSED  # a partial frame at EOF is dropped
            return CLOSED
        return NEED_DATA

    def _fatal_length(self, length: int, available: int) -> ProtocolViolation:
        self._state = SessionState.CLOSED
        seq = None
        if available >= HEADER_SIZE:
            seq = _LENGTH.unpack_from(self._buf, self._pos + 12)[0]
        reason = f"command_length {length} outside 16..{self.max_frame_size}"
        exc = ProtocolViolation(
            reason,
            status=CommandStatus.ESME_RINVCMDLEN,
            sequence_number=seq,
            reply=GenericNack(
                sequence_number=seq or 0, command_status=CommandStatus.ESME_RINVCMDLEN
            ),
            fatal=True,
        )
        exc.__cause__ = FrameTooLarge(
            reason, status=CommandStatus.ESME_RINVCMDLEN, sequence_number=seq
        )
        return exc

    def _received(self, pdu: Pdu) -> Pdu:
        command_id = pdu.command_id
        seq = pdu.sequence_number
        if command_id.is_response:
            if command_id is CommandId.GENERIC_NACK:
                self._settle(seq)  # it answers whatever request had this number, if any
            else:
                request = self._outstanding.get(seq)
                if request is None or request.command_id | 0x80000000 != command_id:
                    raise ProtocolViolation(
                        f"{command_id.name.lower()} {seq} answers no outstanding request",
                        status=CommandStatus.ESME_RINVCMDID,
                        sequence_number=seq,
                        command_id=command_id,
                        pdu=pdu,
                    )
                self._settle(seq)
            if not may_send(self.peer_role, self._state, command_id):
                raise ProtocolViolation(
                    f"{command_id.name.lower()} not allowed in {self._state}",
                    status=CommandStatus.ESME_RINVBNDSTS,
                    sequence_number=seq,
                    command_id=command_id,
                    pdu=pdu,
                )
        elif not may_send(self.peer_role, self._state, command_id):
            status = refusal_status(self.peer_role, self._state, command_id)
            reply: Pdu = (
                GenericNack(sequence_number=seq, command_status=status)
                if status is CommandStatus.ESME_RINVCMDID
                else response_for(pdu, status)
            )
            raise ProtocolViolation(
                f"peer sent {command_id.name.lower()} in {self._state}",
                status=status,
                sequence_number=seq,
                command_id=command_id,
                reply=reply,
                pdu=pdu,
            )
        self._state = next_state(self._state, command_id, pdu.command_status)
        return pdu

    def _settle(self, seq: int) -> Pdu | None:
        request = self._outstanding.pop(seq, None)
        if request is not None and request.command_id not in _NO_WINDOW:
            self._windowed -= 1
        return request

    def forget(self, sequence_number: int) -> Pdu | None:
        """Drop an outstanding request (its response timer expired); returns it, if any."""
        return self._settle(sequence_number)

    # --- sending ----------------------------------------------------------------------

    def send(self, pdu: Pdu) -> bytes:
        """Check `pdu` against the state table and window, record it, return its bytes."""
        command_id = pdu.command_id
        if not may_send(self.role, self._state, command_id):
            raise LocalProtocolError(
                f"{self.role} may not send {command_id.name.lower()} in {self._state}"
            )
        if command_id.is_response or command_id in _NO_RESPONSE:
            data = encode(pdu)
        else:
            seq = pdu.sequence_number
            if not 1 <= seq <= MAX_SEQUENCE:
                raise LocalProtocolError("a request's sequence_number must be in 1..0x7FFFFFFF")
            if seq in self._outstanding:
                raise LocalProtocolError(f"sequence_number {seq} is already outstanding")
            windowed = command_id not in _NO_WINDOW
            if windowed and self._windowed >= self.window:
                raise WindowFull(f"{self.window} requests already outstanding")
            data = encode(pdu)  # before recording: a PduEncodeError leaves no trace
            self._outstanding[seq] = pdu
            self._windowed += windowed
        self._state = next_state(self._state, command_id, pdu.command_status)
        return data


def _decode_violation(exc: PduDecodeError) -> ProtocolViolation:
    """Turn a decode error into the violation to raise, with the reply SMPP 3.4 expects:
    generic_nack for header and length errors (§4.3), the command's own *_resp for a bad
    body of a request, nothing for a bad response."""
    seq, command_id, status = exc.sequence_number, exc.command_id, exc.status
    cls = PDU_CLASSES.get(command_id) if command_id is not None else None
    reply: Pdu | None = None
    if cls is None:
        reply = GenericNack(sequence_number=seq or 0, command_status=status)
    elif cls.command_id.is_response:
        pass  # never answer a response: a nack war helps nobody
    elif status in (CommandStatus.ESME_RINVCMDLEN, CommandStatus.ESME_RINVCMDID):
        reply = GenericNack(sequence_number=seq or 0, command_status=status)
    else:
        responder = getattr(cls, "response_class", GenericNack)
        reply = responder(sequence_number=seq or 0, command_status=status)
    return ProtocolViolation(
        str(exc), status=status, sequence_number=seq, command_id=command_id, reply=reply
    )

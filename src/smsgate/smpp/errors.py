"""The exception tree of `smsgate.smpp`.

    SmppError
    ├── PduDecodeError          bytes from the peer are not a valid PDU
    │   └── FrameTooLarge       command_length outside 16..max_frame_size (fatal for a stream)
    ├── ProtocolViolation       the PEER broke the protocol (raised by Connection.next_event)
    ├── LocalProtocolError      WE misused the API (sending in the wrong state, ...)
    │   ├── PduEncodeError      a PDU we were asked to encode does not fit the spec
    │   └── WindowFull          no room in the request window
    └── InvalidSmppTime         a time string is not SMPP 3.4 §7.1.1

Each peer-facing error carries the `command_status` to answer with, so an adapter never has
to turn exception text into a status (and never echoes exception text to the peer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from smsgate.smpp.constants import CommandStatus

if TYPE_CHECKING:
    from smsgate.smpp.pdu import Pdu


class SmppError(Exception):
    """Base class of every error raised by `smsgate.smpp`."""


class PduDecodeError(SmppError):
    """A frame could not be decoded.

    `status` is the command_status to answer with (ESME_RINVCMDLEN, ESME_RINVCMDID, ...);
    `sequence_number` and `command_id` are set when the 16-byte header was readable.
    """

    def __init__(
        self,
        message: str,
        *,
        status: CommandStatus | int,
        sequence_number: int | None = None,
        command_id: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.sequence_number = sequence_number
        self.command_id = command_id


class FrameTooLarge(PduDecodeError):
    """command_length is below 16 or above the configured maximum; the stream cannot resync."""


class ProtocolViolation(SmppError):
    """The peer broke SMPP 3.4: a bad frame, a command in the wrong state, a stray response.

    `status` is the command_status to answer with; `reply` is the PDU to send back (the
    request's own *_resp carrying `status`, a generic_nack, or None when nothing must be
    sent, e.g. for a stray response). `pdu` is the decoded PDU when there was one. `fatal`
    means the byte stream is unusable and the connection is now CLOSED.
    """

    def __init__(
        self,
        message: str,
        *,
        status: CommandStatus | int,
        sequence_number: int | None = None,
        command_id: int | None = None,
        reply: Pdu | None = None,
        pdu: Pdu | None = None,
        fatal: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.sequence_number = sequence_number
        self.command_id = command_id
        self.reply = reply
        self.pdu = pdu
        self.fatal = fatal


class LocalProtocolError(SmppError):
    """We misused the API: e.g. sending submit_sm in OPEN state or after CLOSED."""


class PduEncodeError(LocalProtocolError):
    """A PDU field is out of the range SMPP 3.4 allows; no bytes were produced."""


class WindowFull(LocalProtocolError):
    """Sending this request would exceed the connection's window of outstanding requests."""


class InvalidSmppTime(SmppError):
    """A schedule_delivery_time / validity_period string is not SMPP 3.4 §7.1.1."""

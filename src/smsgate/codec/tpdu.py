"""SMS-SUBMIT, SMS-DELIVER and SMS-STATUS-REPORT TPDUs (3GPP TS 23.040 §9.2.2), for modems.

``encode()`` gives the TPDU without the SMSC address; :func:`encode_with_smsc` and
:func:`decode_with_smsc` handle the SMSC-prefixed form used by AT+CMGS and +CMGL (TS 27.005).
``user_data`` is the body after the UDH: unpacked septets for GSM-7 (as in SMPP), raw
octets otherwise; packing, fill bits and TP-UDL are handled here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Literal

from smsgate.codec.dcs import Alphabet, make_dcs
from smsgate.codec.encoding import Encoding
from smsgate.codec.errors import TpduError
from smsgate.codec.segment import Part
from smsgate.codec.tpdu_fields import (
    Address,
    Reader,
    decode_address,
    decode_scts,
    decode_smsc_address,
    encode_address,
    encode_scts,
    encode_smsc_address,
)
from smsgate.codec.user_data import decode_ud, encode_ud, user_text

__all__ = [
    "SmsDeliver",
    "SmsStatusReport",
    "SmsSubmit",
    "StatusCategory",
    "Tpdu",
    "decode_tpdu",
    "decode_with_smsc",
    "encode_with_smsc",
]

Direction = Literal["mo", "mt"]

# First-octet bits (§9.2.2.1-9.2.2.3).
_MTI_DELIVER, _MTI_SUBMIT, _MTI_STATUS_REPORT = 0, 1, 2
_MMS_OR_RD = 0x04  # TP-MMS in DELIVER / STATUS-REPORT, TP-RD in SUBMIT
_LP = 0x08  # TP-LP loop prevention
_SRI_SRR_SRQ = 0x20  # TP-SRI / TP-SRR / TP-SRQ
_UDHI = 0x40
_RP = 0x80
# TP-VPF, bits 4..3 of SMS-SUBMIT (§9.2.3.3).
_VPF_NONE, _VPF_ENHANCED, _VPF_RELATIVE, _VPF_ABSOLUTE = 0, 1, 2, 3

Validity = int | datetime | bytes | None
"""TP-VP: relative octet (int), absolute time (datetime), 7 raw enhanced octets, or absent."""


class StatusCategory(IntEnum):
    """The four ranges of TP-Status (§9.2.3.15)."""

    COMPLETED = 0  # 0x00-0x1F: short message transaction completed
    TEMPORARY_TRYING = 1  # 0x20-0x3F: temporary error, SC still trying
    PERMANENT = 2  # 0x40-0x5F (and reserved values): permanent error
    TEMPORARY_STOPPED = 3  # 0x60-0x7F: temporary error, SC no longer trying


def _flag(value: bool, bit: int) -> int:
    return bit if value else 0


@dataclass(frozen=True, slots=True)
class SmsSubmit:
    """SMS-SUBMIT (§9.2.2.2), sent by the modem towards the SMSC."""

    destination: Address
    user_data: bytes = b""
    dcs: int = 0
    udh: bytes = b""
    message_ref: int = 0
    pid: int = 0
    validity: Validity = None
    status_report_request: bool = False
    reject_duplicates: bool = False
    reply_path: bool = False

    @classmethod
    def from_part(
        cls,
        part: Part,
        encoding: Encoding,
        destination: Address,
        *,
        message_ref: int = 0,
        validity: Validity = None,
        status_report_request: bool = False,
        message_class: int | None = None,
    ) -> SmsSubmit:
        """The SMS-SUBMIT carrying one part of :func:`smsgate.codec.split`."""
        alphabet = Alphabet.GSM7 if encoding is Encoding.GSM7 else Alphabet.UCS2
        return cls(
            destination,
            part.payload,
            make_dcs(alphabet, message_class),
            part.udh,
            message_ref,
            validity=validity,
            status_report_request=status_report_request,
        )

    @property
    def text(self) -> str:
        """The user data decoded according to the DCS."""
        return user_text(self.dcs, self.user_data)

    def encode(self) -> bytes:
        """The TPDU octets (without the SMSC address)."""
        vp = self.validity
        if vp is None:
            vpf, vp_octets = _VPF_NONE, b""
        elif isinstance(vp, bool) or not isinstance(vp, int | datetime | bytes):
            raise TpduError("bad validity period")
        elif isinstance(vp, int):
            if not 0 <= vp <= 0xFF:
                raise TpduError("relative validity period is one octet")
            vpf, vp_octets = _VPF_RELATIVE, bytes((vp,))
        elif isinstance(vp, datetime):
            vpf, vp_octets = _VPF_ABSOLUTE, encode_scts(vp)
        else:
            if len(vp) != 7:
                raise TpduError("enhanced validity period is 7 octets")
            vpf, vp_octets = _VPF_ENHANCED, vp
        first = (
            _MTI_SUBMIT
            | _flag(self.reject_duplicates, _MMS_OR_RD)
            | vpf << 3
            | _flag(self.status_report_request, _SRI_SRR_SRQ)
            | _flag(bool(self.udh), _UDHI)
            | _flag(self.reply_path, _RP)
        )
        return (
            bytes((first, _octet(self.message_ref)))
            + encode_address(self.destination)
            + bytes((_octet(self.pid), _octet(self.dcs)))
            + vp_octets
            + encode_ud(self.dcs, self.udh, self.user_data)
        )


def _octet(value: int) -> int:
    if not 0 <= value <= 0xFF:
        raise TpduError(f"{value} does not fit in one octet")
    return value


@dataclass(frozen=True, slots=True)
class SmsDeliver:
    """SMS-DELIVER (§9.2.2.1), a message received by the modem."""

    originator: Address
    scts: datetime
    user_data: bytes = b""
    dcs: int = 0
    udh: bytes = b""
    pid: int = 0
    more_messages: bool = False
    status_report_indication: bool = False
    loop_prevention: bool = False
    reply_path: bool = False

    @property
    def text(self) -> str:
        """The user data decoded according to the DCS."""
        return user_text(self.dcs, self.user_data)

    def encode(self) -> bytes:
        """The TPDU octets (without the SMSC address)."""
        first = (
            _MTI_DELIVER
            | _flag(not self.more_messages, _MMS_OR_RD)  # TP-MMS=1 means no more messages
            | _flag(self.loop_prevention, _LP)
            | _flag(self.status_report_indication, _SRI_SRR_SRQ)
            | _flag(bool(self.udh), _UDHI)
            | _flag(self.reply_path, _RP)
        )
        return (
            bytes((first,))
            + encode_address(self.originator)
            + bytes((_octet(self.pid), _octet(self.dcs)))
            + encode_scts(self.scts)
            + encode_ud(self.dcs, self.udh, self.user_data)
        )


@dataclass(frozen=True, slots=True)
class SmsStatusReport:
    """SMS-STATUS-REPORT (§9.2.2.3): the fate of an SMS-SUBMIT sent with TP-SRR.

    ``pid``, ``dcs`` and ``user_data`` are the optional parameters announced by TP-PI;
    ``None`` means absent.
    """

    message_ref: int
    recipient: Address
    scts: datetime
    discharge_time: datetime
    status: int
    more_messages: bool = False
    loop_prevention: bool = False
    status_report_qualifier: bool = False  # True: the report is about an SMS-COMMAND
    pid: int | None = None
    dcs: int | None = None
    udh: bytes = b""
    user_data: bytes | None = None

    @property
    def category(self) -> StatusCategory:
        """Which of the TP-ST ranges ``status`` falls in."""
        if self.status > 0x7F:
            return StatusCategory.PERMANENT  # reserved values (§9.2.3.15)
        return StatusCategory(self.status >> 5)

    @property
    def text(self) -> str:
        """The optional user data decoded according to the DCS ("" when absent)."""
        return user_text(self.dcs or 0, self.user_data or b"")

    def encode(self) -> bytes:
        """The TPDU octets (without the SMSC address)."""
        first = (
            _MTI_STATUS_REPORT
            | _flag(not self.more_messages, _MMS_OR_RD)
            | _flag(self.loop_prevention, _LP)
            | _flag(self.status_report_qualifier, _SRI_SRR_SRQ)
            | _flag(bool(self.udh), _UDHI)
        )
        out = (
            bytes((first, _octet(self.message_ref)))
            + encode_address(self.recipient)
            + encode_scts(self.scts)
            + encode_scts(self.discharge_time)
            + bytes((_octet(self.status),))
        )
        has_ud = self.user_data is not None or bool(self.udh)
        pi = _flag(self.pid is not None, 1) | _flag(self.dcs is not None, 2) | _flag(has_ud, 4)
        if not pi:
            return out
        out += bytes((pi,))
        if self.pid is not None:
            out += bytes((_octet(self.pid),))
        if self.dcs is not None:
            out += bytes((_octet(self.dcs),))
        if has_ud:
            out += encode_ud(self.dcs or 0, self.udh, self.user_data or b"")
        return out


Tpdu = SmsSubmit | SmsDeliver | SmsStatusReport


def _decode_submit(reader: Reader, first: int) -> SmsSubmit:
    message_ref = reader.octet()
    destination = decode_address(reader)
    pid, dcs = reader.octet(), reader.octet()
    vpf = (first >> 3) & 0x3
    validity: Validity = None
    if vpf == _VPF_RELATIVE:
        validity = reader.octet()
    elif vpf == _VPF_ABSOLUTE:
        validity = decode_scts(reader.take(7))
    elif vpf == _VPF_ENHANCED:
        validity = reader.take(7)
    udh, user_data = decode_ud(reader, dcs, bool(first & _UDHI))
    return SmsSubmit(
        destination,
        user_data,
        dcs,
        udh,
        message_ref,
        pid,
        validity,
        status_report_request=bool(first & _SRI_SRR_SRQ),
        reject_duplicates=bool(first & _MMS_OR_RD),
        reply_path=bool(first & _RP),
    )


def _decode_deliver(reader: Reader, first: int) -> SmsDeliver:
    originator = decode_address(reader)
    pid, dcs = reader.octet(), reader.octet()
    scts = decode_scts(reader.take(7))
    udh, user_data = decode_ud(reader, dcs, bool(first & _UDHI))
    return SmsDeliver(
        originator,
        scts,
        user_data,
        dcs,
        udh,
        pid,
        more_messages=not first & _MMS_OR_RD,
        status_report_indication=bool(first & _SRI_SRR_SRQ),
        loop_prevention=bool(first & _LP),
        reply_path=bool(first & _RP),
    )


def _decode_status_report(reader: Reader, first: int) -> SmsStatusReport:
    message_ref = reader.octet()
    recipient = decode_address(reader)
    scts = decode_scts(reader.take(7))
    discharge_time = decode_scts(reader.take(7))
    status = reader.octet()
    pid = dcs = None
    udh, user_data = b"", None
    if reader.pos < len(reader.data):
        pi = reader.octet()
        extension = pi
        while extension & 0x80:  # §9.2.3.27: further TP-PI octets, none defined yet
            extension = reader.octet()
        if pi & 1:
            pid = reader.octet()
        if pi & 2:
            dcs = reader.octet()
        if pi & 4:
            udh, user_data = decode_ud(reader, dcs or 0, bool(first & _UDHI))
    return SmsStatusReport(
        message_ref,
        recipient,
        scts,
        discharge_time,
        status,
        more_messages=not first & _MMS_OR_RD,
        loop_prevention=bool(first & _LP),
        status_report_qualifier=bool(first & _SRI_SRR_SRQ),
        pid=pid,
        dcs=dcs,
        udh=udh,
        user_data=user_data,
    )


def _decode(reader: Reader, direction: Direction) -> Tpdu:
    first = reader.octet()
    mti = first & 0x3
    # §9.2.3.1: the meaning of TP-MTI depends on the direction of transfer.
    if direction == "mt":
        if mti == _MTI_DELIVER:
            return _decode_deliver(reader, first)
        if mti == _MTI_STATUS_REPORT:
            return _decode_status_report(reader, first)
    elif direction == "mo":
        if mti == _MTI_SUBMIT:
            return _decode_submit(reader, first)
    else:
        raise TpduError(f"direction must be 'mo' or 'mt', not {direction!r}")
    raise TpduError(f"unsupported TP-MTI {mti} for direction {direction}")


def decode_tpdu(data: bytes, *, direction: Direction) -> Tpdu:
    """Decode a TPDU without SMSC address: ``"mt"`` (towards the phone) or ``"mo"``."""
    return _decode(Reader(data), direction)


def encode_with_smsc(tpdu: Tpdu, smsc: Address | None = None) -> bytes:
    """The SMSC address (``None``: the modem's default) followed by the TPDU."""
    return encode_smsc_address(smsc) + tpdu.encode()


def decode_with_smsc(data: bytes, direction: Direction) -> tuple[Address | None, Tpdu]:
    """Decode the SMSC-prefixed form listed by AT+CMGL / +CMGR and sent by AT+CMGS."""
    reader = Reader(data)
    smsc = decode_smsc_address(reader)
    return smsc, _decode(reader, direction)

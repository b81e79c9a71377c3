"""Optional parameters (TLVs), SMPP 3.4 §3.2.4 and §5.3.

A TLV is kept as its raw `(tag, value bytes)`; the type table says how the standard ones
are read. Unknown (vendor) tags are kept and re-encoded unchanged, in their order.
"""

from __future__ import annotations

import builtins
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from smsgate.smpp.constants import CommandStatus, TlvTag
from smsgate.smpp.errors import PduDecodeError, PduEncodeError

_TLV_HEADER = struct.Struct(">HH")
MAX_TLV_VALUE = 0xFFFF


class TlvType(Enum):
    """How the value octets of a standard TLV are read (SMPP 3.4 §5.3.2)."""

    INT1 = 1
    INT2 = 2
    INT4 = 4
    CSTR = "cstr"  # C-octet string: ASCII text ending in NUL
    OCTETS = "octets"  # raw octets (also used for the zero-length alert_on_message_delivery)


_T = TlvTag
TLV_TYPES: dict[int, TlvType] = {
    _T.DEST_ADDR_SUBUNIT: TlvType.INT1,
    _T.DEST_NETWORK_TYPE: TlvType.INT1,
    _T.DEST_BEARER_TYPE: TlvType.INT1,
    _T.DEST_TELEMATICS_ID: TlvType.INT2,
    _T.SOURCE_ADDR_SUBUNIT: TlvType.INT1,
    _T.SOURCE_NETWORK_TYPE: TlvType.INT1,
    _T.SOURCE_BEARER_TYPE: TlvType.INT1,
    _T.SOURCE_TELEMATICS_ID: TlvType.INT1,
    _T.QOS_TIME_TO_LIVE: TlvType.INT4,
    _T.PAYLOAD_TYPE: TlvType.INT1,
    _T.ADDITIONAL_STATUS_INFO_TEXT: TlvType.CSTR,
    _T.RECEIPTED_MESSAGE_ID: TlvType.CSTR,
    _T.MS_MSG_WAIT_FACILITIES: TlvType.INT1,
    _T.PRIVACY_INDICATOR: TlvType.INT1,
    _T.SOURCE_SUBADDRESS: TlvType.OCTETS,
    _T.DEST_SUBADDRESS: TlvType.OCTETS,
    _T.USER_MESSAGE_REFERENCE: TlvType.INT2,
    _T.USER_RESPONSE_CODE: TlvType.INT1,
    _T.SOURCE_PORT: TlvType.INT2,
    _T.DESTINATION_PORT: TlvType.INT2,
    _T.SAR_MSG_REF_NUM: TlvType.INT2,
    _T.LANGUAGE_INDICATOR: TlvType.INT1,
    _T.SAR_TOTAL_SEGMENTS: TlvType.INT1,
    _T.SAR_SEGMENT_SEQNUM: TlvType.INT1,
    _T.SC_INTERFACE_VERSION: TlvType.INT1,
    _T.CALLBACK_NUM_PRES_IND: TlvType.INT1,
    _T.CALLBACK_NUM_ATAG: TlvType.OCTETS,
    _T.NUMBER_OF_MESSAGES: TlvType.INT1,
    _T.CALLBACK_NUM: TlvType.OCTETS,
    _T.DPF_RESULT: TlvType.INT1,
    _T.SET_DPF: TlvType.INT1,
    _T.MS_AVAILABILITY_STATUS: TlvType.INT1,
    _T.NETWORK_ERROR_CODE: TlvType.OCTETS,  # 3 octets: network type + 2-octet error code
    _T.MESSAGE_PAYLOAD: TlvType.OCTETS,
    _T.DELIVERY_FAILURE_REASON: TlvType.INT1,
    _T.MORE_MESSAGES_TO_SEND: TlvType.INT1,
    _T.MESSAGE_STATE: TlvType.INT1,
    _T.USSD_SERVICE_OP: TlvType.INT1,  # an octet string of length 1 in §5.3.2.44, read as int
    _T.DISPLAY_TIME: TlvType.INT1,
    _T.SMS_SIGNAL: TlvType.INT2,
    _T.MS_VALIDITY: TlvType.INT1,
    _T.ALERT_ON_MESSAGE_DELIVERY: TlvType.OCTETS,  # no value (length 0)
    _T.ITS_REPLY_TYPE: TlvType.INT1,
    _T.ITS_SESSION_INFO: TlvType.INT2,
}
# Integer TLVs have a fixed length: a different one is ESME_RINVPARLEN on decode.
_INT_SIZES: dict[int, int] = {
    tag: kind.value
    for tag, kind in TLV_TYPES.items()
    if kind in (TlvType.INT1, TlvType.INT2, TlvType.INT4)
}


@dataclass(frozen=True, slots=True)
class Tlv:
    """One optional parameter: the tag and its raw value octets (without the 4-octet header)."""

    tag: builtins.int
    value: bytes

    @classmethod
    def int(
        cls, tag: builtins.int, value: builtins.int, *, size: builtins.int | None = None
    ) -> Tlv:
        """An integer TLV; the size comes from the type table unless given for a vendor tag."""
        width = _INT_SIZES.get(tag) if size is None else size
        if width not in (1, 2, 4):
            raise PduEncodeError(f"TLV 0x{tag:04X} is not an integer TLV; pass size=1, 2 or 4")
        if not 0 <= value < 1 << (8 * width):
            raise PduEncodeError(f"TLV 0x{tag:04X} value {value} does not fit {width} octets")
        return cls(tag, value.to_bytes(width, "big"))

    @classmethod
    def cstr(cls, tag: builtins.int, text: str) -> Tlv:
        """A C-octet string TLV (latin-1 octets plus the terminating NUL)."""
        return cls(tag, _latin1(text, tag) + b"\0")

    @classmethod
    def octets(cls, tag: builtins.int, data: bytes) -> Tlv:
        """An octet string TLV (no terminator)."""
        return cls(tag, bytes(data))


def _latin1(text: str, tag: int) -> bytes:
    if "\0" in text:
        raise PduEncodeError(f"TLV 0x{tag:04X}: a C-octet string cannot contain NUL")
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        raise PduEncodeError(f"TLV 0x{tag:04X}: text is not latin-1") from None


def get_tlv(tlvs: Iterable[Tlv], tag: int) -> Tlv | None:
    """The first TLV with `tag`, or None."""
    for tlv in tlvs:
        if tlv.tag == tag:
            return tlv
    return None


def tlv_value(tlvs: Iterable[Tlv], tag: int) -> int | bytes | str | None:
    """The value of the first TLV with `tag`, read by the type table (vendor tags → bytes)."""
    tlv = get_tlv(tlvs, tag)
    if tlv is None:
        return None
    kind = TLV_TYPES.get(tag, TlvType.OCTETS)
    if kind is TlvType.OCTETS:
        return tlv.value
    if kind is TlvType.CSTR:
        # Tolerant: some SMSCs omit the NUL; anything after the first NUL is padding.
        return tlv.value.split(b"\0", 1)[0].decode("latin-1")
    return builtins.int.from_bytes(tlv.value, "big")


def encode_tlvs(tlvs: Iterable[Tlv]) -> bytes:
    """The TLV stream in order; raises PduEncodeError for a value that cannot be framed."""
    pack = _TLV_HEADER.pack
    parts: list[bytes] = []
    for tlv in tlvs:
        tag, value = tlv.tag, tlv.value
        if not 0 <= tag <= 0xFFFF:
            raise PduEncodeError(f"TLV tag {tag} is outside 0..0xFFFF")
        if len(value) > MAX_TLV_VALUE:
            raise PduEncodeError(f"TLV 0x{tag:04X} value is longer than 65535 octets")
        size = _INT_SIZES.get(tag)
        if size is not None and len(value) != size:
            raise PduEncodeError(f"TLV 0x{tag:04X} must be {size} octets")
        parts.append(pack(tag, len(value)))
        parts.append(value)
    return b"".join(parts)


def decode_tlvs(buf: bytes, pos: int, end: int) -> tuple[Tlv, ...]:
    """Parse `buf[pos:end]` as a TLV stream (SMPP 3.4 §3.2.4.1)."""
    unpack_from = _TLV_HEADER.unpack_from
    out: list[Tlv] = []
    while pos < end:
        if end - pos < 4:
            raise PduDecodeError("truncated TLV header", status=CommandStatus.ESME_RINVOPTPARSTREAM)
        tag, length = unpack_from(buf, pos)
        pos += 4
        if pos + length > end:
            raise PduDecodeError(
                f"TLV 0x{tag:04X} runs past the end of the PDU",
                status=CommandStatus.ESME_RINVOPTPARSTREAM,
            )
        size = _INT_SIZES.get(tag)
        if size is not None and length != size:
            raise PduDecodeError(
                f"TLV 0x{tag:04X} has length {length}, expected {size}",
                status=CommandStatus.ESME_RINVPARLEN,
            )
        out.append(Tlv(tag, buf[pos : pos + length]))
        pos += length
    return tuple(out)

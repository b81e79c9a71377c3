"""Fields shared by the 3GPP TS 23.040 TPDUs: addresses, time stamps, validity periods.

Semi-octets (§9.1.2.3) put the first digit in the low nibble of each octet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import IntEnum

from smsgate.codec.errors import CodecError, TpduError
from smsgate.codec.gsm7 import decode_gsm7, encode_gsm7, pack_septets, unpack_septets

__all__ = [
    "Address",
    "Reader",
    "Ton",
    "decode_address",
    "decode_scts",
    "decode_smsc_address",
    "encode_address",
    "encode_scts",
    "encode_smsc_address",
    "vp_relative_from_seconds",
    "vp_relative_seconds",
]


class Ton(IntEnum):
    """Type of number, bits 6..4 of the type-of-address octet (TS 23.040 §9.1.2.5)."""

    UNKNOWN = 0
    INTERNATIONAL = 1
    NATIONAL = 2
    NETWORK_SPECIFIC = 3
    SUBSCRIBER = 4
    ALPHANUMERIC = 5
    ABBREVIATED = 6
    RESERVED = 7


NPI_UNKNOWN = 0
NPI_ISDN = 1  # E.164

_DIGITS = "0123456789*#abc"  # semi-octet values 0x0-0xE; 0xF is the filler
_DIGIT_VALUE = {c: i for i, c in enumerate(_DIGITS)}
_MAX_ADDRESS_OCTETS = 10  # §9.1.2.5: the address value is at most 10 octets


@dataclass(frozen=True, slots=True)
class Address:
    """A TP address: ``number`` holds digits (no ``+``) or, for TON 5, the alphanumeric text."""

    number: str
    ton: Ton = Ton.UNKNOWN
    npi: int = NPI_ISDN

    @classmethod
    def parse(cls, value: str) -> Address:
        """``+digits`` is international, plain digits unknown-type, anything else alphanumeric."""
        if value.startswith("+") and value[1:].isdigit():
            return cls(value[1:], Ton.INTERNATIONAL, NPI_ISDN)
        if value.isdigit() and value.isascii():
            return cls(value, Ton.UNKNOWN, NPI_ISDN)
        return cls(value, Ton.ALPHANUMERIC, NPI_UNKNOWN)

    def __str__(self) -> str:
        return "+" + self.number if self.ton is Ton.INTERNATIONAL else self.number


class Reader:
    """Bounds-checked cursor over a TPDU: running off the end is a :class:`TpduError`."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def octet(self) -> int:
        if self.pos >= len(self.data):
            raise TpduError("TPDU truncated")
        self.pos += 1
        return self.data[self.pos - 1]

    def take(self, count: int) -> bytes:
        if self.pos + count > len(self.data):
            raise TpduError("TPDU truncated")
        self.pos += count
        return self.data[self.pos - count : self.pos]


def _toa(address: Address) -> int:
    if not 0 <= address.npi <= 0xF:
        raise TpduError("NPI must be 0..15")
    return 0x80 | int(address.ton) << 4 | address.npi


def _semi_octets(digits: str) -> bytes:
    try:
        values = [_DIGIT_VALUE[c] for c in digits]
    except KeyError:
        raise TpduError(f"not a semi-octet digit string: {digits!r}") from None
    if len(values) % 2:
        values.append(0xF)
    return bytes(values[i] | values[i + 1] << 4 for i in range(0, len(values), 2))


def _digits(value: bytes, count: int) -> str:
    out: list[str] = []
    for octet in value:
        out.append(_nibble(octet & 0xF))
        out.append(_nibble(octet >> 4))
    return "".join(out[:count])


def _nibble(value: int) -> str:
    if value == 0xF:
        return ""  # filler; only legal at the end, but harmless to skip elsewhere
    return _DIGITS[value]


def _alphanumeric(text: str) -> tuple[int, bytes]:
    """(semi-octet count, packed value) of an alphanumeric address (§9.1.2.5)."""
    try:
        septets = encode_gsm7(text)
    except CodecError as exc:
        raise TpduError("alphanumeric address is not GSM-7") from exc
    return (len(septets) * 7 + 3) // 4, pack_septets(septets)


def encode_address(address: Address) -> bytes:
    """TP-OA / TP-DA / TP-RA: length in useful semi-octets, type of address, value."""
    if address.ton is Ton.ALPHANUMERIC:
        length, value = _alphanumeric(address.number)
    else:
        length, value = len(address.number), _semi_octets(address.number)
    if len(value) > _MAX_ADDRESS_OCTETS:
        raise TpduError("address too long")
    return bytes((length, _toa(address))) + value


def decode_address(reader: Reader) -> Address:
    """Read a TP-OA / TP-DA / TP-RA field."""
    length = reader.octet()
    toa = reader.octet()
    value = reader.take((length + 1) // 2)
    return _make_address(toa, value, length)


def _make_address(toa: int, value: bytes, semi_octets: int) -> Address:
    ton = Ton((toa >> 4) & 0x7)
    if ton is Ton.ALPHANUMERIC:
        # floor(4L/7) septets always fit in the (L+1)//2 octets read, and septets decode.
        number = decode_gsm7(unpack_septets(value, semi_octets * 4 // 7))
    else:
        number = _digits(value, semi_octets)
    return Address(number, ton, toa & 0xF)


def encode_smsc_address(address: Address | None) -> bytes:
    """The RP-SC address that prefixes a TPDU in AT PDU mode; length is in octets, 0 = default."""
    if address is None:
        return b"\x00"
    encoded = encode_address(address)
    return bytes((len(encoded) - 1,)) + encoded[1:]


def decode_smsc_address(reader: Reader) -> Address | None:
    """Read the SMSC address prefix (length in octets including the type octet)."""
    length = reader.octet()
    if length == 0:
        return None
    toa = reader.octet()
    value = reader.take(length - 1)
    return _make_address(toa, value, 2 * len(value))


# --- time stamps (§9.2.3.11) -------------------------------------------------------------


def _bcd(value: int) -> int:
    return (value % 10) << 4 | value // 10


def _unbcd(octet: int) -> int:
    low, high = octet & 0xF, octet >> 4
    if low > 9 or high > 9:
        raise TpduError("time stamp digit out of range")
    return low * 10 + high


def encode_scts(moment: datetime) -> bytes:
    """Seven semi-octet pairs; the zone is in quarter hours with the sign in bit 3."""
    offset = moment.utcoffset()
    if offset is None:
        raise TpduError("time stamps need a time zone")
    quarters, rest = divmod(int(offset.total_seconds()), 900)
    if rest or not -79 <= quarters <= 79:
        raise TpduError("time zone must be a whole number of quarter hours within ±79")
    if not 2000 <= moment.year <= 2099:
        raise TpduError("time stamps carry years 2000-2099")
    fields = (moment.year % 100, moment.month, moment.day, moment.hour, moment.minute)
    zone = _bcd(abs(quarters)) | (0x08 if quarters < 0 else 0)
    return bytes(_bcd(v) for v in (*fields, moment.second)) + bytes((zone,))


def decode_scts(raw: bytes) -> datetime:
    """Parse a 7-octet time stamp into an aware datetime (two-digit years read as 20xx).

    A "negative zero" zone (as in some published examples) reads as UTC.
    """
    year, month, day, hour, minute, second = (_unbcd(o) for o in raw[:6])
    zone = raw[6]
    quarters = _unbcd(zone & 0xF7)
    if zone & 0x08:
        quarters = -quarters
    try:
        tz = timezone(timedelta(minutes=15 * quarters))
        return datetime(2000 + year, month, day, hour, minute, second, tzinfo=tz)
    except ValueError as exc:
        raise TpduError("invalid time stamp") from exc


# --- relative validity period (§9.2.3.12.1) ---------------------------------------------


def vp_relative_seconds(octet: int) -> int:
    """Duration in seconds of a relative TP-VP octet."""
    if not 0 <= octet <= 0xFF:
        raise ValueError("TP-VP is one octet")
    if octet <= 143:
        return (octet + 1) * 300
    if octet <= 167:
        return 12 * 3600 + (octet - 143) * 1800
    if octet <= 196:
        return (octet - 166) * 86400
    return (octet - 192) * 7 * 86400


def vp_relative_from_seconds(seconds: float) -> int:
    """The smallest relative TP-VP octet lasting at least ``seconds`` (capped at 63 weeks)."""
    whole = math.ceil(seconds)
    if whole <= 12 * 3600:
        return max(0, -(-whole // 300) - 1)
    if whole <= 24 * 3600:
        return 143 + -(-(whole - 12 * 3600) // 1800)
    if whole <= 30 * 86400:
        return 166 + -(-whole // 86400)
    return min(255, 192 + -(-whole // (7 * 86400)))

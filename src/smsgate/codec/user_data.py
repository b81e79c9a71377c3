"""TP-User-Data (3GPP TS 23.040 §9.2.3.16, §9.2.3.24): TP-UDL, UDH, fill bits, packing."""

from __future__ import annotations

from smsgate.codec.dcs import Alphabet, parse_dcs
from smsgate.codec.errors import CodecError, TpduError
from smsgate.codec.gsm7 import decode_gsm7, pack_septets, unpack_septets
from smsgate.codec.tpdu_fields import Reader
from smsgate.codec.ucs2 import decode_ucs2
from smsgate.codec.udh import split_udh

__all__ = ["MAX_UD_OCTETS", "decode_ud", "encode_ud", "user_text"]

MAX_UD_OCTETS = 140  # §9.2.3.16


def user_text(dcs: int, user_data: bytes) -> str:
    alphabet = parse_dcs(dcs).alphabet
    if alphabet is Alphabet.GSM7:
        return decode_gsm7(user_data)
    if alphabet is Alphabet.UCS2:
        return decode_ucs2(user_data)
    return user_data.decode("latin-1")  # 8-bit data: lossless best effort


def _septet_mode(dcs: int) -> bool:
    coding = parse_dcs(dcs)
    return coding.alphabet is Alphabet.GSM7 and not coding.compressed


def _fill_bits(header_octets: int) -> int:
    """Bits that pad the UDH to a septet boundary (§9.2.3.24)."""
    return (7 - header_octets * 8 % 7) % 7 if header_octets else 0


def encode_ud(dcs: int, udh: bytes, user_data: bytes) -> bytes:
    """TP-UDL followed by TP-UD."""
    if udh and (udh[0] + 1 != len(udh)):
        raise TpduError("udh must start with its UDHL")
    if _septet_mode(dcs):
        fill = _fill_bits(len(udh))
        try:
            body = pack_septets(user_data, fill)
        except CodecError as exc:
            raise TpduError("GSM-7 user data must be septets below 0x80") from exc
        udl = (len(udh) * 8 + fill) // 7 + len(user_data)
    else:
        body = user_data
        udl = len(udh) + len(user_data)
    ud = udh + body
    if len(ud) > MAX_UD_OCTETS:
        raise TpduError(f"user data of {len(ud)} octets exceeds {MAX_UD_OCTETS}")
    return bytes((udl,)) + ud


def decode_ud(reader: Reader, dcs: int, udhi: bool) -> tuple[bytes, bytes]:
    """Read TP-UDL and TP-UD; return (udh, user_data)."""
    udl = reader.octet()
    septets = _septet_mode(dcs)
    size = (udl * 7 + 7) // 8 if septets else udl
    ud = reader.take(size)
    udh = b""
    if udhi:
        if not ud or ud[0] + 1 > size:
            raise TpduError("UDH longer than the user data")
        udh = ud[: ud[0] + 1]
        try:
            split_udh(udh)
        except CodecError as exc:
            raise TpduError("malformed UDH") from exc
    if not septets:
        return udh, ud[len(udh) :]
    fill = _fill_bits(len(udh))
    count = udl - (len(udh) * 8 + fill) // 7
    if count < 0:
        raise TpduError("TP-UDL smaller than the UDH")
    # ceil(7*UDL/8) octets were read, so the septets always fit.
    return udh, unpack_septets(ud[len(udh) :], count, fill)

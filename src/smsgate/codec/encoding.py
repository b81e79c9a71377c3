"""Choice of encoding for outgoing text, and decoding of SMPP payloads by data_coding."""

from __future__ import annotations

import codecs
from enum import StrEnum

from smsgate.codec.dcs import Alphabet, parse_dcs
from smsgate.codec.errors import CodecError, DecodeError, EncodingError
from smsgate.codec.gsm7 import decode_gsm7, encode_gsm7_or_none, non_gsm7_chars
from smsgate.codec.transliterate import transliterate as _transliterate
from smsgate.codec.ucs2 import decode_ucs2, encode_ucs2

__all__ = ["Encoding", "choose_encoding", "decode_payload", "select_encoding"]


class Encoding(StrEnum):
    """Encoding of a message body on the air interface."""

    GSM7 = "gsm7"
    UCS2 = "ucs2"


_REQUESTS = frozenset({"auto", "gsm7", "ucs2"})


def select_encoding(
    text: str, requested: str = "auto", *, transliterate: bool = False
) -> tuple[Encoding, str, bytes]:
    """Like :func:`choose_encoding`, plus the encoded body (GSM-7 septets or UTF-16BE)."""
    if requested == "ucs2":
        return Encoding.UCS2, text, encode_ucs2(text)
    if requested not in _REQUESTS:
        raise CodecError(f"unknown encoding request {requested!r}")
    data = encode_gsm7_or_none(text)
    if data is not None:
        return Encoding.GSM7, text, data
    body = _transliterate(text) if transliterate else text
    if transliterate:
        data = encode_gsm7_or_none(body)
        if data is not None:
            return Encoding.GSM7, body, data
    if requested == "gsm7":
        bad = non_gsm7_chars(body)
        raise EncodingError(f"{len(bad)} character(s) not in GSM-7", bad)
    return Encoding.UCS2, text, encode_ucs2(text)


def choose_encoding(
    text: str, requested: str = "auto", *, transliterate: bool = False
) -> tuple[Encoding, str]:
    """Return the encoding to use and the text to send.

    ``requested`` is ``"auto"``, ``"gsm7"`` or ``"ucs2"``. With ``transliterate``, look-alikes
    are replaced only when that makes the text fit GSM-7; a text that needs UCS-2 anyway is
    sent unchanged. ``"gsm7"`` with characters outside GSM-7 raises :class:`EncodingError`.
    """
    encoding, body, _ = select_encoding(text, requested, transliterate=transliterate)
    return encoding, body


# SMPP 3.4 §5.2.19 data_coding values 0-15; above 15 the octet is a TS 23.038 DCS.
_SMPP_CHARSETS: dict[int, str] = {
    1: "ascii",  # IA5 (CCITT T.50) / ASCII
    2: "latin-1",  # octet unspecified (8-bit binary): lossless best effort
    3: "latin-1",  # Latin 1 (ISO-8859-1)
    4: "latin-1",  # octet unspecified (8-bit binary)
    5: "shift_jis",  # JIS (X 0208-1990)
    6: "iso8859-5",  # Cyrillic
    7: "iso8859-8",  # Latin/Hebrew
    9: "shift_jis",  # pictogram encoding: best effort
    10: "iso2022_jp",  # music codes (ISO-2022-JP)
    13: "euc_jp",  # extended kanji JIS (X 0212-1990)
    14: "euc_kr",  # KS C 5601
}


def decode_payload(data: bytes, data_coding: int) -> str:
    """Decode an SMPP ``short_message`` body (without UDH) according to ``data_coding``.

    0 is the SMSC default alphabet, taken as unpacked GSM-7; 8 is UCS-2; the other SMPP
    values and TS 23.038 DCS octets are decoded on a best-effort basis. Anything that does
    not decode raises :class:`DecodeError`.
    """
    if data_coding == 0:
        return decode_gsm7(data)
    if data_coding == 8:
        return decode_ucs2(data)
    charset = _SMPP_CHARSETS.get(data_coding)
    if charset is None:
        if not 0x10 <= data_coding <= 0xFF:
            raise DecodeError(f"unsupported data_coding {data_coding}")
        coding = parse_dcs(data_coding)
        if coding.compressed:
            raise DecodeError("compressed user data is not supported")
        if coding.alphabet is Alphabet.UCS2:
            return decode_ucs2(data)
        if coding.alphabet is Alphabet.GSM7:
            return decode_gsm7(data)
        charset = "latin-1"
    try:
        return codecs.decode(data, charset)
    except UnicodeDecodeError as exc:
        raise DecodeError(f"payload is not valid {charset}") from exc

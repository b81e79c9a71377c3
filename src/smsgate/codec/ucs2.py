"""UCS-2 as sent over SMS: in practice UTF-16BE, with surrogate pairs for astral characters.

TS 23.038 §6.2.3 names UCS-2, but handsets and SMSCs carry UTF-16 (an emoji is two
16-bit units); we count and split in UTF-16 units for that reason.
"""

from __future__ import annotations

from smsgate.codec.errors import DecodeError, EncodingError

__all__ = ["decode_ucs2", "encode_ucs2", "ucs2_units"]


def encode_ucs2(text: str) -> bytes:
    """Encode ``text`` as UTF-16BE; a lone surrogate in ``text`` raises :class:`EncodingError`."""
    try:
        return text.encode("utf-16-be")
    except UnicodeEncodeError as exc:
        bad = tuple(dict.fromkeys(c for c in text if "\ud800" <= c <= "\udfff"))
        raise EncodingError("lone surrogate in text", bad) from exc


def decode_ucs2(data: bytes) -> str:
    """Decode UTF-16BE; odd length or unpaired surrogates raise :class:`DecodeError`."""
    if len(data) % 2:
        raise DecodeError("UCS-2 data has an odd number of octets")
    try:
        return data.decode("utf-16-be")
    except UnicodeDecodeError as exc:
        raise DecodeError("unpaired surrogate in UCS-2 data") from exc


def ucs2_units(text: str) -> int:
    """UTF-16 code units needed for ``text`` (astral characters count two)."""
    if not text or max(text) < "\U00010000":
        return len(text)
    return len(text) + sum(1 for c in text if c >= "\U00010000")

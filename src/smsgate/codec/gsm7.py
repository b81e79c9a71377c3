"""The GSM 7-bit default alphabet (3GPP TS 23.038 §6.2.1) and septet packing.

Text is mapped with ``str.translate`` and then encoded with ``.encode("ascii")``: every
GSM code is below 0x80, so any character the table does not map stays non-ASCII and makes
the ASCII encoder fail. (Encoding to Latin-1 instead would silently accept ``ç``.)
Both directions run in C; there is no per-character Python loop on the hot path.
"""

from __future__ import annotations

import codecs
from functools import lru_cache

from smsgate.codec.errors import DecodeError, EncodingError

__all__ = [
    "BASIC_TABLE",
    "ESC",
    "EXTENSION_TABLE",
    "GSM7_CHARS",
    "decode_gsm7",
    "encode_gsm7",
    "encode_gsm7_or_none",
    "gsm7_units",
    "non_gsm7_chars",
    "pack_septets",
    "unpack_septets",
]

ESC = 0x1B
"""Escape to the extension table (TS 23.038 §6.2.1.1)."""

# TS 23.038 §6.2.1: position i holds the character of code i. Position 0x1B is the
# escape code; "\x1b" there is a placeholder that encoding never produces from text.
BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
assert len(BASIC_TABLE) == 128

# TS 23.038 §6.2.1.1 default extension table: character -> code sent after ESC.
EXTENSION_TABLE: dict[str, int] = {
    "\f": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}

GSM7_CHARS: frozenset[str] = frozenset(BASIC_TABLE.replace("\x1b", "")) | frozenset(EXTENSION_TABLE)
"""Every character representable in the default alphabet (basic + extension)."""

# Characters that must make .encode("ascii") fail are mapped to this non-ASCII sentinel.
_BAD = "\udfff"


def _build_encode_table() -> dict[int, str]:
    table: dict[int, str] = {cp: _BAD for cp in range(128)}  # ASCII not in GSM must fail
    for code, char in enumerate(BASIC_TABLE):
        if code != ESC:
            table[ord(char)] = chr(code)
    for char, code in EXTENSION_TABLE.items():
        table[ord(char)] = "\x1b" + chr(code)
    # A surrogate sentinel in the input must fail too, not pass as itself.
    table[ord(_BAD)] = _BAD
    return table


_ENCODE = _build_encode_table()
# Decoding of the basic table is a plain charmap; bytes >= 0x80 are undefined there.
_DECODE_BASIC = BASIC_TABLE[:ESC] + " " + BASIC_TABLE[ESC + 1 :]
_DECODE_EXT: dict[int, str] = {code: char for char, code in EXTENSION_TABLE.items()}


def non_gsm7_chars(text: str) -> tuple[str, ...]:
    """Distinct characters of ``text`` outside the GSM-7 alphabet, in order of appearance."""
    return tuple(c for c in dict.fromkeys(text) if c not in GSM7_CHARS)


def encode_gsm7(text: str) -> bytes:
    """Encode ``text`` as unpacked septets, one per octet; extension chars as ESC + code.

    Raises :class:`EncodingError` (with ``.chars``) when a character is not in the alphabet.
    """
    try:
        return text.translate(_ENCODE).encode("ascii")
    except UnicodeEncodeError:
        bad = non_gsm7_chars(text)
        raise EncodingError(f"{len(bad)} character(s) not in GSM-7", bad) from None


def encode_gsm7_or_none(text: str) -> bytes | None:
    """Like :func:`encode_gsm7`, but ``None`` instead of an error (cheap on the UCS-2 path)."""
    mapped = text.translate(_ENCODE)
    return mapped.encode("ascii") if mapped.isascii() else None


def gsm7_units(text: str) -> int | None:
    """Septets needed to send ``text`` in GSM-7, or ``None`` if it is not representable."""
    mapped = text.translate(_ENCODE)
    return len(mapped) if mapped.isascii() else None


def decode_gsm7(data: bytes) -> str:
    """Decode unpacked septets to text.

    Tolerant as TS 23.038 §6.2.1.1 asks of a receiver: ESC followed by a code the extension
    table does not define shows the basic-table character of that code; ESC ESC (reserved
    for a further extension table) and a trailing lone ESC show a space. Octets above 0x7F
    are not septets and raise :class:`DecodeError`.
    """
    if not data.isascii():
        raise DecodeError("GSM-7 septets must be below 0x80")
    if ESC not in data:
        return codecs.charmap_decode(data, "strict", _DECODE_BASIC)[0]
    out: list[str] = []
    start = 0
    end = len(data)
    while True:
        esc = data.find(ESC, start)
        if esc < 0:
            out.append(codecs.charmap_decode(data[start:], "strict", _DECODE_BASIC)[0])
            return "".join(out)
        out.append(codecs.charmap_decode(data[start:esc], "strict", _DECODE_BASIC)[0])
        if esc + 1 == end:
            out.append(" ")
            return "".join(out)
        code = data[esc + 1]
        out.append(_DECODE_EXT.get(code) or _DECODE_BASIC[code])
        start = esc + 2


# --- septet packing (TS 23.038 §6.1.2.1.1) --------------------------------------------
#
# Septets are packed LSB first into a continuous bit stream. Rather than shifting one
# septet at a time in Python, the whole message is handled as one big integer: three
# masked shifts squeeze each 8-octet group into 56 bits, then every 8th (now empty) octet
# is deleted with one slice operation. Unpacking runs the same steps backwards.

_STEPS = (
    (bytes.fromhex("7f007f007f007f00"), bytes.fromhex("007f007f007f007f"), 1),
    (bytes.fromhex("ff3f0000ff3f0000"), bytes.fromhex("0000ff3f0000ff3f"), 2),
    (bytes.fromhex("ffffff0f00000000"), bytes.fromhex("00000000ffffff0f"), 4),
)


@lru_cache(maxsize=64)
def _masks(groups: int) -> tuple[tuple[int, int, int], ...]:
    return tuple(
        (int.from_bytes(low * groups, "little"), int.from_bytes(high * groups, "little"), shift)
        for low, high, shift in _STEPS
    )


def pack_septets(septets: bytes, fill_bits: int = 0) -> bytes:
    """Pack unpacked septets (one per octet, each < 0x80) into octets.

    ``fill_bits`` (0-6) zero bits come first, as after a User Data Header
    (TS 23.040 §9.2.3.24). Raises :class:`EncodingError` for octets above 0x7F.
    """
    if not 0 <= fill_bits <= 6:
        raise ValueError("fill_bits must be 0..6")
    if not septets.isascii():
        raise EncodingError("septets must be below 0x80")
    count = len(septets)
    groups = (count + 7) // 8
    value = int.from_bytes(septets, "little")
    for low, high, shift in _masks(groups):
        value = (value & low) | ((value & high) >> shift)
    octets = bytearray(value.to_bytes(groups * 8, "little"))
    del octets[7::8]
    if fill_bits:
        value = int.from_bytes(octets, "little") << fill_bits
        octets = bytearray(value.to_bytes(len(octets) + 1, "little"))
    return bytes(octets[: (count * 7 + fill_bits + 7) // 8])


def unpack_septets(data: bytes, count: int, fill_bits: int = 0) -> bytes:
    """Unpack ``count`` septets from ``data``, skipping ``fill_bits`` leading bits.

    Raises :class:`DecodeError` when ``data`` is too short to hold them.
    """
    if not 0 <= fill_bits <= 6:
        raise ValueError("fill_bits must be 0..6")
    if count < 0 or len(data) * 8 < count * 7 + fill_bits:
        raise DecodeError(f"{len(data)} octets cannot hold {count} septets")
    groups = (count + 7) // 8
    value = int.from_bytes(data, "little") >> fill_bits
    value &= (1 << (count * 7)) - 1
    packed = value.to_bytes(groups * 7, "little")
    spread = bytearray(groups * 8)
    for j in range(7):
        spread[j::8] = packed[j::7]
    value = int.from_bytes(spread, "little")
    for low, high, shift in reversed(_masks(groups)):
        value = (value & low) | ((value << shift) & high)
    return value.to_bytes(groups * 8, "little")[:count]

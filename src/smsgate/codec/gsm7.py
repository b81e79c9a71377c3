"""The GSM 7-bit default alphabet (3GPP TS 23.038 §6.2.1) and septet packing.

Both directions run in C (``str.translate``, the charmap codec, ``bytes.replace``); there
is no per-character Python loop on the hot path. Unpacked septets (one per octet) are the
working form, as SMPP carries them; :func:`pack_septets` makes the packed air form.
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

# Two encoders, each fast where the other is slow. ASCII text goes through str.translate,
# which has a C fast path for ASCII input; characters outside GSM become a non-ASCII
# sentinel so that .encode("ascii") fails on them (Latin-1 would silently accept "ç").
# Other text goes through a C charmap, which stops at the first non-GSM character; it maps
# extension characters to 0x80 + code, expanded to ESC + code afterwards.
_BAD = "\udfff"


def _build_translate_table() -> dict[int, str]:
    table: dict[int, str] = {cp: _BAD for cp in range(128)}  # ASCII not in GSM must fail
    for code, char in enumerate(BASIC_TABLE):
        if code != ESC:
            table[ord(char)] = chr(code)
    for char, code in EXTENSION_TABLE.items():
        table[ord(char)] = "\x1b" + chr(code)
    return table


def _build_charmap(esc: str) -> str:
    """A 256-entry charmap: basic codes, then extension characters at 0x80 + code."""
    table = ["\ufffe"] * 256  # U+FFFE marks an undefined position for the charmap codec
    for code, char in enumerate(BASIC_TABLE):
        table[code] = char
    table[ESC] = esc
    for char, code in EXTENSION_TABLE.items():
        table[0x80 + code] = char
    return "".join(table)


_TRANSLATE = _build_translate_table()
_DECODE_MAP = _build_charmap(esc=" ")  # a stray ESC reads as a space (decode_gsm7)
_ENCODE_MAP = codecs.charmap_build(_build_charmap(esc="\ufffe"))  # no text becomes ESC
_EXT_PAIRS = tuple((bytes((ESC, code)), bytes((0x80 + code,))) for code in EXTENSION_TABLE.values())


def non_gsm7_chars(text: str) -> tuple[str, ...]:
    """Distinct characters of ``text`` outside the GSM-7 alphabet, in order of appearance."""
    return tuple(c for c in dict.fromkeys(text) if c not in GSM7_CHARS)


def encode_gsm7_or_none(text: str) -> bytes | None:
    """Like :func:`encode_gsm7`, but ``None`` instead of an error (cheap on the UCS-2 path)."""
    if text.isascii():
        mapped = text.translate(_TRANSLATE)
        return mapped.encode("ascii") if mapped.isascii() else None
    try:
        data: bytes = codecs.charmap_encode(text, "strict", _ENCODE_MAP)[0]
    except UnicodeEncodeError:
        return None
    if not data.isascii():
        for pair, single in _EXT_PAIRS:
            data = data.replace(single, pair)
    return data


def encode_gsm7(text: str) -> bytes:
    """Encode ``text`` as unpacked septets, one per octet; extension chars as ESC + code.

    Raises :class:`EncodingError` (with ``.chars``) when a character is not in the alphabet.
    """
    data = encode_gsm7_or_none(text)
    if data is None:
        bad = non_gsm7_chars(text)
        raise EncodingError(f"{len(bad)} character(s) not in GSM-7", bad)
    return data


def gsm7_units(text: str) -> int | None:
    """Septets needed to send ``text`` in GSM-7, or ``None`` if it is not representable."""
    data = encode_gsm7_or_none(text)
    return None if data is None else len(data)


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
        return codecs.charmap_decode(data, "strict", _DECODE_MAP)[0]
    if b"\x1b\x1b" not in data:
        # Without ESC ESC every ESC starts a pair, so the pairs can be replaced blindly.
        mapped = data
        for pair, single in _EXT_PAIRS:
            mapped = mapped.replace(pair, single)
        if ESC not in mapped:
            return codecs.charmap_decode(mapped, "strict", _DECODE_MAP)[0]
    return _decode_escapes(data)


def _decode_escapes(data: bytes) -> str:
    """Slow path for unusual escapes: ESC ESC, unknown codes, a trailing ESC."""
    out: list[str] = []
    start = 0
    while True:
        esc = data.find(ESC, start)
        if esc < 0:
            out.append(codecs.charmap_decode(data[start:], "strict", _DECODE_MAP)[0])
            return "".join(out)
        out.append(codecs.charmap_decode(data[start:esc], "strict", _DECODE_MAP)[0])
        if esc + 1 == len(data):
            out.append(" ")
            return "".join(out)
        code = data[esc + 1]
        out.append(_DECODE_EXT.get(code) or _DECODE_MAP[code])
        start = esc + 2


_DECODE_EXT: dict[int, str] = {code: char for char, code in EXTENSION_TABLE.items()}


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

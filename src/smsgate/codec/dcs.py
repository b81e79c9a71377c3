"""TP-Data-Coding-Scheme (3GPP TS 23.038 §4): alphabet, message class, compression."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

__all__ = ["Alphabet", "DataCoding", "make_dcs", "parse_dcs"]


class Alphabet(IntEnum):
    """Character set of the user data, with the codes of TS 23.038 §4 bits 3..2."""

    GSM7 = 0
    EIGHT_BIT = 1
    UCS2 = 2


@dataclass(frozen=True, slots=True)
class DataCoding:
    """What a DCS octet says about the user data."""

    alphabet: Alphabet
    message_class: int | None
    compressed: bool = False


def parse_dcs(dcs: int) -> DataCoding:
    """Interpret a DCS octet. Reserved codings read as GSM-7, as TS 23.038 §4 requires."""
    if not 0 <= dcs <= 0xFF:
        raise ValueError("DCS is one octet")
    group = dcs >> 4
    if group <= 0x7:  # 00xx / 01xx: general data coding (01xx = automatic deletion)
        bits = (dcs >> 2) & 0x3
        alphabet = Alphabet(bits) if bits != 3 else Alphabet.GSM7
        klass = dcs & 0x3 if dcs & 0x10 else None
        return DataCoding(alphabet, klass, bool(dcs & 0x20))
    if group == 0xF:  # data coding / message class
        alphabet = Alphabet.EIGHT_BIT if dcs & 0x4 else Alphabet.GSM7
        return DataCoding(alphabet, dcs & 0x3)
    if group == 0xE:  # message waiting indication, store, UCS-2
        return DataCoding(Alphabet.UCS2, None)
    return DataCoding(Alphabet.GSM7, None)  # 1100/1101 message waiting; 10xx reserved


def make_dcs(alphabet: Alphabet, message_class: int | None = None) -> int:
    """Build the general-data-coding DCS octet for ``alphabet`` and an optional class 0-3."""
    if message_class is None:
        return int(alphabet) << 2
    if not 0 <= message_class <= 3:
        raise ValueError("message class must be 0..3")
    return 0x10 | int(alphabet) << 2 | message_class

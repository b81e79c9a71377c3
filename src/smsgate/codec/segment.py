"""Splitting a text into SMS parts, counting parts, and the preview shown before sending.

Sizes (3GPP TS 23.040 §9.2.3.16, 140 octets of user data): a single part carries 160
septets or 70 UTF-16 units; a concatenated part loses 6 octets to an 8-bit-reference UDH
(153 / 67) or 7 octets to a 16-bit one (152 / 66). SMPP SAR concatenation carries the
reference in TLVs, but we keep the UDH8 sizes so that the parts stay interoperable with
SMSCs that convert SAR to UDH. A part never ends in the middle of an escape pair
(TS 23.038 §6.2.1.1) or a surrogate pair, and a message is never truncated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from smsgate.codec.encoding import Encoding, select_encoding
from smsgate.codec.errors import CodecError, TooManyParts
from smsgate.codec.gsm7 import ESC, non_gsm7_chars
from smsgate.codec.udh import build_concat_udh

__all__ = [
    "Concat",
    "Part",
    "Preview",
    "SplitMessage",
    "check_part_count",
    "count_parts",
    "per_part",
    "preview",
    "reassemble",
    "split",
]

MAX_PARTS = 255  # the UDH total field is one octet (TS 23.040 §9.2.3.24.1)
_HIGH_SURROGATE_OCTETS = bytes(range(0xD8, 0xDC))


class Concat(StrEnum):
    """How the parts of a long message are tied together."""

    UDH8 = "udh8"  # TS 23.040 §9.2.3.24.1, 8-bit reference
    UDH16 = "udh16"  # TS 23.040 §9.2.3.24.8, 16-bit reference
    SAR = "sar"  # SMPP 3.4 §5.3.2.22-24 sar_msg_ref_num / sar_total_segments / sar_segment_seqnum


_SINGLE = {Encoding.GSM7: 160, Encoding.UCS2: 70}
_MULTI = {
    (Encoding.GSM7, Concat.UDH8): 153,
    (Encoding.GSM7, Concat.UDH16): 152,
    (Encoding.GSM7, Concat.SAR): 153,
    (Encoding.UCS2, Concat.UDH8): 67,
    (Encoding.UCS2, Concat.UDH16): 66,
    (Encoding.UCS2, Concat.SAR): 67,
}
_MAX_REF = {Concat.UDH8: 0xFF, Concat.UDH16: 0xFFFF, Concat.SAR: 0xFFFF}


@dataclass(frozen=True, slots=True)
class Part:
    """One SMS segment, ready to go into an SMPP ``short_message`` or a TPDU."""

    seq: int
    total: int
    ref: int
    udh: bytes
    payload: bytes
    text: str
    units: int

    @property
    def short_message(self) -> bytes:
        """The UDH followed by the payload, as SMPP carries it."""
        return self.udh + self.payload


@dataclass(frozen=True, slots=True)
class SplitMessage:
    """A text cut into parts; ``text`` is what is sent (after any transliteration)."""

    encoding: Encoding
    text: str
    parts: tuple[Part, ...]
    concat: Concat


@dataclass(frozen=True, slots=True)
class Preview:
    """What sending a text would cost, as shown to a user before sending."""

    encoding: Encoding
    parts: int
    chars: int
    units: int
    per_part: int
    non_gsm_chars: tuple[str, ...]


def per_part(encoding: Encoding, parts: int, concat: Concat = Concat.UDH8) -> int:
    """Capacity of one part, in septets or UTF-16 units, for a message of ``parts`` parts."""
    return _SINGLE[encoding] if parts <= 1 else _MULTI[encoding, concat]


def _cuts(encoding: Encoding, data: bytes, size: int) -> list[int]:
    """End offsets (in octets of ``data``) of each part of at most ``size`` units."""
    total = len(data)
    if encoding is Encoding.GSM7:
        if ESC not in data:
            return [*range(size, total, size), total]
        step, unit = size, 1
    else:
        step, unit = 2 * size, 2
        if len(data[::2].translate(None, _HIGH_SURROGATE_OCTETS)) == total // 2:
            return [*range(step, total, step), total]
    cuts: list[int] = []
    pos = 0
    while pos + step < total:
        end = pos + step
        lead = data[end - unit]
        # An ESC or a high surrogate as the last unit belongs with the next part.
        if (lead == ESC) if unit == 1 else (0xD8 <= lead <= 0xDB):
            end -= unit
        cuts.append(end)
        pos = end
    cuts.append(total)
    return cuts


def check_part_count(parts: int, max_parts: int) -> None:
    """The part limit of every channel (DESIGN.md §5): a message of ``parts`` segments is
    refused with :class:`TooManyParts` above ``max_parts`` (and above 255, the most a UDH
    can number), whether we split it or the client sent it already concatenated."""
    if max_parts < 1:
        raise CodecError("max_parts must be at least 1")
    limit = min(max_parts, MAX_PARTS)
    if parts > limit:
        raise TooManyParts(parts, limit)


def split(
    text: str,
    *,
    encoding: str = "auto",
    concat: Concat = Concat.UDH8,
    ref: int = 0,
    max_parts: int = MAX_PARTS,
    transliterate: bool = False,
) -> SplitMessage:
    """Cut ``text`` into parts; :class:`TooManyParts` rather than truncation when too long."""
    concat = Concat(concat)
    if not 0 <= ref <= _MAX_REF[concat]:
        raise CodecError(f"concatenation reference {ref} out of range for {concat}")
    enc, body, data = select_encoding(text, encoding, transliterate=transliterate)
    unit = 1 if enc is Encoding.GSM7 else 2
    if len(data) <= _SINGLE[enc] * unit:
        cuts = [len(data)]
    else:
        cuts = _cuts(enc, data, _MULTI[enc, concat])
    total = len(cuts)
    check_part_count(total, max_parts)
    if total == 1:
        part = Part(1, 1, 0, b"", data, body, len(data) // unit)
        return SplitMessage(enc, body, (part,), concat)
    parts: list[Part] = []
    start = char = 0
    fast = len(data) == len(body) * unit  # no escape or surrogate pairs
    for seq, end in enumerate(cuts, 1):
        payload = data[start:end]
        units = len(payload) // unit
        if fast:
            chars = units
        elif unit == 1:
            chars = units - payload.count(ESC)
        else:
            # Each character has exactly one unit that is not a high surrogate.
            chars = len(payload[::2].translate(None, _HIGH_SURROGATE_OCTETS))
        udh = (
            b""
            if concat is Concat.SAR
            else build_concat_udh(ref, total, seq, sixteen_bit=concat is Concat.UDH16)
        )
        parts.append(Part(seq, total, ref, udh, payload, body[char : char + chars], units))
        start, char = end, char + chars
    return SplitMessage(enc, body, tuple(parts), concat)


def _count(enc: Encoding, data: bytes, concat: Concat) -> int:
    unit = 1 if enc is Encoding.GSM7 else 2
    if len(data) <= _SINGLE[enc] * unit:
        return 1
    return len(_cuts(enc, data, _MULTI[enc, concat]))


def count_parts(
    text: str,
    encoding: str = "auto",
    *,
    transliterate: bool = False,
    concat: Concat = Concat.UDH8,
) -> int:
    """Number of parts :func:`split` would produce, without building them."""
    enc, _, data = select_encoding(text, encoding, transliterate=transliterate)
    return _count(enc, data, Concat(concat))


def preview(
    text: str,
    encoding: str = "auto",
    *,
    transliterate: bool = False,
    concat: Concat = Concat.UDH8,
) -> Preview:
    """Encoding, parts, characters, units and capacity of ``text``, and why UCS-2 was needed."""
    enc, body, data = select_encoding(text, encoding, transliterate=transliterate)
    parts = _count(enc, data, Concat(concat))
    units = len(data) if enc is Encoding.GSM7 else len(data) // 2
    bad = () if enc is Encoding.GSM7 else non_gsm7_chars(body)
    return Preview(enc, parts, len(body), units, per_part(enc, parts, Concat(concat)), bad)


def reassemble(parts: Iterable[Part]) -> str:
    """Join parts in any order, ignoring duplicates; a missing part raises :class:`CodecError`."""
    texts: dict[int, str] = {}
    totals: set[int] = set()
    for part in parts:
        texts.setdefault(part.seq, part.text)
        totals.add(part.total)
    if len(totals) != 1:
        raise CodecError("parts disagree on the total" if totals else "no parts")
    total = totals.pop()
    missing = [seq for seq in range(1, total + 1) if seq not in texts]
    if missing or len(texts) != total:
        raise CodecError(f"missing or stray parts: missing {missing}")
    return "".join(texts[seq] for seq in range(1, total + 1))

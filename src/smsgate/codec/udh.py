"""User Data Header: building concatenation headers and parsing any header.

3GPP TS 23.040 §9.2.3.24: UDHL, then information elements (IEI, IEDL, data).
"""

from __future__ import annotations

from dataclasses import dataclass

from smsgate.codec.errors import UdhError

__all__ = ["ConcatInfo", "Udh", "build_concat_udh", "split_udh"]

IEI_CONCAT_8 = 0x00  # §9.2.3.24.1 concatenated short messages, 8-bit reference
IEI_PORTS_8 = 0x04  # §9.2.3.24.3 application port addressing, 8-bit
IEI_PORTS_16 = 0x05  # §9.2.3.24.4 application port addressing, 16-bit
IEI_CONCAT_16 = 0x08  # §9.2.3.24.8 concatenated short messages, 16-bit reference


@dataclass(frozen=True, slots=True)
class ConcatInfo:
    """Which part of which concatenated message this is."""

    ref: int
    total: int
    seq: int
    sixteen_bit: bool


@dataclass(frozen=True, slots=True)
class Udh:
    """A parsed User Data Header: all elements in order, and the ones we understand."""

    elements: tuple[tuple[int, bytes], ...]
    concat: ConcatInfo | None
    src_port: int | None
    dst_port: int | None


def build_concat_udh(ref: int, total: int, seq: int, *, sixteen_bit: bool = False) -> bytes:
    """The complete UDH (with UDHL) of part ``seq`` of ``total`` of message ``ref``."""
    if not 1 <= total <= 255 or not 1 <= seq <= total:
        raise UdhError(f"bad concatenation numbers seq={seq} total={total}")
    if sixteen_bit:
        if not 0 <= ref <= 0xFFFF:
            raise UdhError("16-bit concatenation reference must be 0..65535")
        return bytes((6, IEI_CONCAT_16, 4, ref >> 8, ref & 0xFF, total, seq))
    if not 0 <= ref <= 0xFF:
        raise UdhError("8-bit concatenation reference must be 0..255")
    return bytes((5, IEI_CONCAT_8, 3, ref, total, seq))


def _concat(iei: int, data: bytes) -> ConcatInfo | None:
    if iei == IEI_CONCAT_8 and len(data) == 3:
        ref, total, seq = data
        sixteen = False
    elif iei == IEI_CONCAT_16 and len(data) == 4:
        ref, total, seq = (data[0] << 8) | data[1], data[2], data[3]
        sixteen = True
    else:
        return None
    # §9.2.3.24.1: a zero total, or a sequence of zero or above the total, voids the element.
    if total == 0 or not 1 <= seq <= total:
        return None
    return ConcatInfo(ref, total, seq, sixteen)


def split_udh(short_message: bytes) -> tuple[Udh, bytes]:
    """Split a UDHI-flagged ``short_message`` into its header and the remaining payload.

    Raises :class:`UdhError` when the UDHL or an element length runs past the data.
    """
    if not short_message:
        raise UdhError("no UDHL octet")
    end = short_message[0] + 1
    if end > len(short_message):
        raise UdhError("UDHL runs past the end of the data")
    elements: list[tuple[int, bytes]] = []
    concat: ConcatInfo | None = None
    src_port: int | None = None
    dst_port: int | None = None
    pos = 1
    while pos < end:
        if pos + 2 > end:
            raise UdhError("truncated information element")
        iei, length = short_message[pos], short_message[pos + 1]
        data = short_message[pos + 2 : pos + 2 + length]
        pos += 2 + length
        if pos > end:
            raise UdhError("information element runs past the UDH")
        elements.append((iei, data))
        if iei in (IEI_CONCAT_8, IEI_CONCAT_16):
            concat = _concat(iei, data) or concat
        elif iei == IEI_PORTS_8 and length == 2:
            dst_port, src_port = data[0], data[1]
        elif iei == IEI_PORTS_16 and length == 4:
            dst_port, src_port = (data[0] << 8) | data[1], (data[2] << 8) | data[3]
    return Udh(tuple(elements), concat, src_port, dst_port), short_message[end:]

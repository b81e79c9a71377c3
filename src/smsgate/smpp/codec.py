"""encode(pdu) -> bytes and decode(frame) -> pdu for whole SMPP 3.4 PDUs (§3.2).

Two paths with the same behaviour: a table-driven one (`layout.LAYOUTS`) for every PDU, and
hand-specialised functions for the hot PDUs (submit_sm, deliver_sm and their responses).
A fast function returns None whenever anything is unusual; the table-driven path then
produces the result or the precise error. Tests check that the two agree.

Errors: decode raises PduDecodeError carrying the command_status to answer with and, when
the header was readable, the sequence_number and command_id; encode raises PduEncodeError
and never produces a frame that breaks the spec's length limits.
"""

from __future__ import annotations

import struct
from dataclasses import MISSING, fields
from typing import Any

from smsgate.smpp.constants import CommandStatus as S
from smsgate.smpp.errors import PduDecodeError, PduEncodeError
from smsgate.smpp.fastpath import FAST_DECODERS, FAST_ENCODERS
from smsgate.smpp.layout import (
    CSTR,
    DEST_FLAG_DL,
    DEST_FLAG_SME,
    DESTS,
    DL_NAME,
    HEADER,
    HEADER_SIZE,
    LAYOUTS,
    MAX_SHORT_MESSAGE,
    SM,
    U8,
    Field,
)
from smsgate.smpp.pdu import (
    PDU_CLASSES,
    DestAddress,
    DistributionList,
    Pdu,
    UnsuccessSme,
)
from smsgate.smpp.tlv import decode_tlvs, encode_tlvs

_U32 = struct.Struct(">I")
_MAX_U32 = 0xFFFFFFFF
_CMDLEN = S.ESME_RINVCMDLEN


def decode(frame: bytes) -> Pdu:
    """Decode one whole PDU, header included; raises PduDecodeError."""
    if type(frame) is not bytes:
        frame = bytes(frame)
    n = len(frame)
    if n < HEADER_SIZE:
        raise PduDecodeError("frame is shorter than the 16-octet header", status=_CMDLEN)
    length, command_id, status, seq = HEADER.unpack_from(frame)
    try:
        if length != n:
            raise PduDecodeError(
                f"command_length {length} but frame has {n} octets", status=_CMDLEN
            )
        fast = FAST_DECODERS.get(command_id)
        if fast is not None:
            pdu = fast(frame, status, seq, n)
            if pdu is not None:
                return pdu
        cls = PDU_CLASSES.get(command_id)
        if cls is None:
            raise PduDecodeError(f"unknown command_id 0x{command_id:08X}", status=S.ESME_RINVCMDID)
        return decode_body(cls, frame, status, seq)
    except PduDecodeError as exc:
        if exc.sequence_number is None:
            exc.sequence_number = seq
            exc.command_id = command_id
        raise


def encode(pdu: Pdu) -> bytes:
    """Encode one PDU, header included; raises PduEncodeError for out-of-spec fields."""
    fast = FAST_ENCODERS.get(type(pdu))
    if fast is not None:
        data = fast(pdu)
        if data is not None:
            return data
    return encode_body(pdu)


# --- table-driven path -------------------------------------------------------------------


def _cstr_at(b: bytes, pos: int, n: int, limit: int, status: int, name: str) -> tuple[str, int]:
    stop = pos + limit
    i = b.find(0, pos, min(stop, n))
    if i < 0:
        if stop <= n:
            raise PduDecodeError(f"{name} is longer than {limit - 1} octets", status=status)
        raise PduDecodeError(f"{name} is not NUL-terminated within the PDU", status=_CMDLEN)
    return b[pos:i].decode("latin-1"), i + 1


def _u8_at(b: bytes, pos: int, n: int, name: str) -> int:
    if pos >= n:
        raise PduDecodeError(f"PDU ends before {name}", status=_CMDLEN)
    return b[pos]


def _dests_at(b: bytes, pos: int, n: int) -> tuple[tuple[DestAddress | DistributionList, ...], int]:
    count = _u8_at(b, pos, n, "number_of_dests")
    if count > 254:  # §4.5.1: at most 254 destinations
        raise PduDecodeError("number_of_dests above 254", status=S.ESME_RINVNUMDESTS)
    pos += 1
    out: list[DestAddress | DistributionList] = []
    for _ in range(count):
        flag = _u8_at(b, pos, n, "dest_flag")
        if flag == DEST_FLAG_SME:
            ton, npi = (
                _u8_at(b, pos + 1, n, "dest_addr_ton"),
                _u8_at(b, pos + 2, n, "dest_addr_npi"),
            )
            addr, pos = _cstr_at(b, pos + 3, n, 21, S.ESME_RINVDSTADR, "destination_addr")
            out.append(DestAddress(dest_addr_ton=ton, dest_addr_npi=npi, destination_addr=addr))
        elif flag == DEST_FLAG_DL:
            name, pos = _cstr_at(b, pos + 1, n, DL_NAME, S.ESME_RINVDLNAME, "dl_name")
            out.append(DistributionList(dl_name=name))
        else:
            raise PduDecodeError(f"dest_flag {flag} is neither 1 nor 2", status=S.ESME_RINVDESTFLAG)
    return tuple(out), pos


def _unsuccess_at(b: bytes, pos: int, n: int) -> tuple[tuple[UnsuccessSme, ...], int]:
    count = _u8_at(b, pos, n, "no_unsuccess")
    pos += 1
    out: list[UnsuccessSme] = []
    for _ in range(count):
        ton, npi = _u8_at(b, pos, n, "dest_addr_ton"), _u8_at(b, pos + 1, n, "dest_addr_npi")
        addr, pos = _cstr_at(b, pos + 2, n, 21, S.ESME_RINVDSTADR, "destination_addr")
        if pos + 4 > n:
            raise PduDecodeError("PDU ends inside error_status_code", status=_CMDLEN)
        (code,) = _U32.unpack_from(b, pos)
        pos += 4
        out.append(
            UnsuccessSme(
                dest_addr_ton=ton, dest_addr_npi=npi, destination_addr=addr, error_status_code=code
            )
        )
    return tuple(out), pos


def decode_body(cls: type[Pdu], b: bytes, status: int, seq: int) -> Pdu:
    """Decode a frame whose header is already checked, by the layout table."""
    n = len(b)
    layout = LAYOUTS.get(cls)
    if layout is None or (n == HEADER_SIZE and cls.command_id.is_response):
        # A header-only PDU, or a response without body (allowed on error, §4.4.2 etc.,
        # and tolerated on success: the fields keep their defaults).
        if n != HEADER_SIZE:
            raise PduDecodeError(f"{cls.command_id.name.lower()} has no body", status=_CMDLEN)
        return cls(sequence_number=seq, command_status=status)
    values: dict[str, Any] = {}
    pos = HEADER_SIZE
    for name, kind, limit, err in layout:
        if kind == CSTR:
            values[name], pos = _cstr_at(b, pos, n, limit, err, name)
        elif kind == U8:
            values[name] = _u8_at(b, pos, n, name)
            pos += 1
        elif kind == SM:
            sm_length = _u8_at(b, pos, n, "sm_length")
            end = pos + 1 + sm_length
            if sm_length > limit or end > n:
                raise PduDecodeError(f"sm_length {sm_length} is invalid", status=err)
            values[name] = b[pos + 1 : end]
            pos = end
        elif kind == DESTS:
            values[name], pos = _dests_at(b, pos, n)
        else:  # UNSUCCESS
            values[name], pos = _unsuccess_at(b, pos, n)
    if pos < n:
        values["tlvs"] = decode_tlvs(b, pos, n)
    return cls(sequence_number=seq, command_status=status, **values)


def _cstr(value: object, limit: int, name: str) -> bytes:
    if not isinstance(value, str):
        raise PduEncodeError(f"{name} must be str")
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        raise PduEncodeError(f"{name} is not latin-1 text") from None
    if len(raw) >= limit or b"\0" in raw:
        raise PduEncodeError(f"{name} must be at most {limit - 1} octets without NUL")
    return raw + b"\0"


def _u8(value: object, name: str) -> bytes:
    if not isinstance(value, int) or not 0 <= value <= 0xFF:
        raise PduEncodeError(f"{name} must be an integer 0..255")
    return bytes((value,))


def _encode_dests(dests: object) -> list[bytes]:
    if not isinstance(dests, tuple) or len(dests) > 254:
        raise PduEncodeError("dest_addresses must be a tuple of at most 254 entries")
    out = [bytes((len(dests),))]
    for dest in dests:
        if isinstance(dest, DestAddress):
            out += (
                b"\x01",
                _u8(dest.dest_addr_ton, "dest_addr_ton"),
                _u8(dest.dest_addr_npi, "dest_addr_npi"),
                _cstr(dest.destination_addr, 21, "destination_addr"),
            )
        elif isinstance(dest, DistributionList):
            out += (b"\x02", _cstr(dest.dl_name, DL_NAME, "dl_name"))
        else:
            raise PduEncodeError("dest_addresses entries are DestAddress or DistributionList")
    return out


def _encode_unsuccess(smes: object) -> list[bytes]:
    if not isinstance(smes, tuple) or len(smes) > 255:
        raise PduEncodeError("unsuccess_smes must be a tuple of at most 255 entries")
    out = [bytes((len(smes),))]
    for sme in smes:
        if not isinstance(sme, UnsuccessSme):
            raise PduEncodeError("unsuccess_smes entries are UnsuccessSme")
        out += (_u8(sme.dest_addr_ton, "dest_addr_ton"), _u8(sme.dest_addr_npi, "dest_addr_npi"))
        out.append(_cstr(sme.destination_addr, 21, "destination_addr"))
        if not isinstance(sme.error_status_code, int) or not 0 <= sme.error_status_code <= _MAX_U32:
            raise PduEncodeError("error_status_code must fit 4 octets")
        out.append(_U32.pack(sme.error_status_code))
    return out


def _field_bytes(pdu: Pdu, spec: Field) -> list[bytes]:
    name, kind, limit, _ = spec
    value = getattr(pdu, name)
    if kind == CSTR:
        return [_cstr(value, limit, name)]
    if kind == U8:
        return [_u8(value, name)]
    if kind == SM:
        if not isinstance(value, bytes | bytearray) or len(value) > MAX_SHORT_MESSAGE:
            raise PduEncodeError("short_message must be at most 254 octets (use message_payload)")
        return [bytes((len(value),)), bytes(value)]
    if kind == DESTS:
        return _encode_dests(value)
    return _encode_unsuccess(value)


def _body_omitted(pdu: Pdu, layout: tuple[Field, ...]) -> bool:
    """An error response whose body fields are all defaults is sent without body (§4.4.2)."""
    if not pdu.command_status or not pdu.command_id.is_response:
        return False
    defaults = _DEFAULTS[type(pdu)]
    return not getattr(pdu, "tlvs", ()) and all(
        getattr(pdu, name) == defaults[name] for name, _, _, _ in layout
    )


def encode_body(pdu: Pdu) -> bytes:
    """Encode any PDU by the layout table."""
    cls = type(pdu)
    if PDU_CLASSES.get(getattr(cls, "command_id", -1)) is not cls:
        raise PduEncodeError(f"{cls.__name__} is not an SMPP PDU class")
    seq, status = pdu.sequence_number, pdu.command_status
    if not (isinstance(seq, int) and 0 <= seq <= _MAX_U32):
        raise PduEncodeError("sequence_number must fit 4 octets")
    if not (isinstance(status, int) and 0 <= status <= _MAX_U32):
        raise PduEncodeError("command_status must fit 4 octets")
    parts: list[bytes] = []
    layout = LAYOUTS.get(cls)
    if layout is not None and not _body_omitted(pdu, layout):
        for spec in layout:
            parts += _field_bytes(pdu, spec)
        parts.append(encode_tlvs(getattr(pdu, "tlvs", ())))
    body = b"".join(parts)
    return HEADER.pack(HEADER_SIZE + len(body), cls.command_id, status, seq) + body


_DEFAULTS: dict[type[Pdu], dict[str, Any]] = {
    cls: {f.name: f.default for f in fields(cls) if f.default is not MISSING}
    for cls in PDU_CLASSES.values()
}

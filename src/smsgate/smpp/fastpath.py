"""Hand-specialised encode/decode for the hot PDUs: submit_sm, deliver_sm and their responses.

`codec.encode`/`codec.decode` try these first. Each function returns None as soon as
anything is unusual (a limit reached, a wrong type, a truncated frame) and the table-driven
path in codec.py then produces the result or the precise error, so both paths behave the
same; tests/fuzz/test_smpp_roundtrip.py checks that on valid and damaged frames.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import fields
from typing import Any, cast

from smsgate.smpp.layout import HEADER, HEADER_SIZE, MAX_SHORT_MESSAGE
from smsgate.smpp.pdu import DeliverSm, DeliverSmResp, Pdu, SubmitSm, SubmitSmResp
from smsgate.smpp.tlv import decode_tlvs, encode_tlvs

_B5 = struct.Struct(">BBBBB")

_Decoder = Callable[[bytes, int, int, int], Pdu | None]
_Encoder = Callable[[Any], bytes | None]


def _slot_builder(cls: type[Pdu]) -> Callable[..., Pdu]:
    """A constructor taking every field value positionally, in declaration order.

    A frozen dataclass __init__ stores each field through object.__setattr__; for the 20
    fields of submit_sm that costs more than parsing the PDU. This builder stores the slots
    through their descriptors in straight-line code generated once per class (the way
    dataclasses generates __init__). Only decoders call it, with values they validated.
    """
    names = [f.name for f in fields(cls)]
    scope: dict[str, Any] = {"new": object.__new__, "cls": cls}
    for i, name in enumerate(names):
        owner = next(c for c in cls.__mro__ if name in c.__dict__)
        scope[f"set{i}"] = owner.__dict__[name].__set__
    params = ", ".join(f"v{i}" for i in range(len(names)))
    stores = "".join(f"    set{i}(obj, v{i})\n" for i in range(len(names)))
    exec(f"def build({params}):\n    obj = new(cls)\n{stores}    return obj\n", scope)  # noqa: S102
    return cast(Callable[..., Pdu], scope["build"])


_SM_HEAD_MAX = 16 + 6 + 2 + 21 + 2 + 21 + 3 + 17 + 17  # header up to validity_period's NUL


def _short_message_decoder(cls: type[SubmitSm] | type[DeliverSm]) -> _Decoder:
    build = _slot_builder(cls)

    def decode_sm(b: bytes, status: int, seq: int, n: int) -> Pdu | None:
        # The C-strings are read from one latin-1 decoding of the head of the frame; limits
        # are enforced by bounding each NUL search (service_type 6, addresses 21, times 17,
        # §4.4.1). Anything odd returns None and the table-driven path reports the error.
        t = b[:_SM_HEAD_MAX].decode("latin-1")
        try:
            index = t.index
            i = index("\0", 16, 22)
            service_type = t[16:i]
            src_ton, src_npi = b[i + 1], b[i + 2]
            p = i + 3
            i = index("\0", p, p + 21)
            source_addr = t[p:i]
            dst_ton, dst_npi = b[i + 1], b[i + 2]
            p = i + 3
            i = index("\0", p, p + 21)
            destination_addr = t[p:i]
            esm_class, protocol_id, priority_flag = b[i + 1], b[i + 2], b[i + 3]
            p = i + 4
            i = index("\0", p, p + 17)
            schedule = t[p:i]
            p = i + 1
            i = index("\0", p, p + 17)
            validity = t[p:i]
            registered, replace, coding, default_id, sm_length = _B5.unpack_from(b, i + 1)
        except (ValueError, IndexError, struct.error):
            return None
        p = i + 6
        end = p + sm_length
        if sm_length > MAX_SHORT_MESSAGE or end > n:
            return None
        return build(
            seq,
            status,
            service_type,
            src_ton,
            src_npi,
            source_addr,
            dst_ton,
            dst_npi,
            destination_addr,
            esm_class,
            protocol_id,
            priority_flag,
            schedule,
            validity,
            registered,
            replace,
            coding,
            default_id,
            b[p:end],
            decode_tlvs(b, end, n) if end < n else (),
        )

    return decode_sm


def _message_id_decoder(cls: type[SubmitSmResp] | type[DeliverSmResp]) -> _Decoder:
    def decode_resp(b: bytes, status: int, seq: int, n: int) -> Pdu | None:
        if n == HEADER_SIZE:
            return cls(sequence_number=seq, command_status=status)
        i = b.find(0, HEADER_SIZE, HEADER_SIZE + 65)
        if i + 1 != n:  # no NUL, too long, or TLVs follow
            return None
        return cls(sequence_number=seq, command_status=status, message_id=b[16:i].decode("latin-1"))

    return decode_resp


def _encode_sm(p: SubmitSm | DeliverSm) -> bytes | None:
    try:
        text = (p.service_type, p.source_addr, p.destination_addr)
        times = (p.schedule_delivery_time, p.validity_period)
        sm = p.short_message
        if (
            len(text[0]) > 5
            or len(text[1]) > 20
            or len(text[2]) > 20
            or len(times[0]) > 16
            or len(times[1]) > 16
            or len(sm) > MAX_SHORT_MESSAGE
            or "\0" in "".join(text + times)
        ):
            return None
        body = b"%s\0%c%c%s\0%c%c%s\0%c%c%c%s\0%s\0%c%c%c%c%c%s%s" % (
            text[0].encode("latin-1"),
            p.source_addr_ton,
            p.source_addr_npi,
            text[1].encode("latin-1"),
            p.dest_addr_ton,
            p.dest_addr_npi,
            text[2].encode("latin-1"),
            p.esm_class,
            p.protocol_id,
            p.priority_flag,
            times[0].encode("latin-1"),
            times[1].encode("latin-1"),
            p.registered_delivery,
            p.replace_if_present_flag,
            p.data_coding,
            p.sm_default_msg_id,
            len(sm),
            sm,
            encode_tlvs(p.tlvs) if p.tlvs else b"",
        )
        return HEADER.pack(16 + len(body), p.command_id, p.command_status, p.sequence_number) + body
    except (UnicodeEncodeError, OverflowError, TypeError, struct.error):
        return None  # the table-driven path names the offending field


def _encode_message_id_resp(p: SubmitSmResp | DeliverSmResp) -> bytes | None:
    message_id = p.message_id
    try:
        if p.tlvs or len(message_id) > 64 or "\0" in message_id:
            return None
        if p.command_status and not message_id:
            return HEADER.pack(16, p.command_id, p.command_status, p.sequence_number)
        raw = message_id.encode("latin-1")
        head = HEADER.pack(17 + len(raw), p.command_id, p.command_status, p.sequence_number)
    except (UnicodeEncodeError, TypeError, struct.error):
        return None
    return head + raw + b"\0"


FAST_DECODERS: dict[int, _Decoder] = {
    SubmitSm.command_id: _short_message_decoder(SubmitSm),
    DeliverSm.command_id: _short_message_decoder(DeliverSm),
    SubmitSmResp.command_id: _message_id_decoder(SubmitSmResp),
    DeliverSmResp.command_id: _message_id_decoder(DeliverSmResp),
}
FAST_ENCODERS: dict[type, _Encoder] = {
    SubmitSm: _encode_sm,
    DeliverSm: _encode_sm,
    SubmitSmResp: _encode_message_id_resp,
    DeliverSmResp: _encode_message_id_resp,
}

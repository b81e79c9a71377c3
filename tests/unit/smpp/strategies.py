"""Hypothesis strategies for SMPP PDUs with field values inside the SMPP 3.4 limits."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from hypothesis import strategies as st

from smsgate.smpp import (
    PDU_CLASSES,
    DestAddress,
    DistributionList,
    Pdu,
    Tlv,
    TlvType,
    UnsuccessSme,
)
from smsgate.smpp.layout import CSTR, DESTS, LAYOUTS, SM, U8, UNSUCCESS
from smsgate.smpp.tlv import TLV_TYPES

u8 = st.integers(0, 255)
u32 = st.integers(0, 0xFFFFFFFF)


def cstr(limit: int) -> st.SearchStrategy[str]:
    """Text that encodes to at most limit-1 latin-1 octets, without NUL."""
    return st.text(st.characters(min_codepoint=1, max_codepoint=255), max_size=limit - 1)


def _known_tlv(tag: int) -> st.SearchStrategy[Tlv]:
    kind = TLV_TYPES[tag]
    if kind in (TlvType.INT1, TlvType.INT2, TlvType.INT4):
        return st.integers(0, (1 << (8 * kind.value)) - 1).map(lambda v: Tlv.int(tag, v))
    if kind is TlvType.CSTR:
        return cstr(65).map(lambda s: Tlv.cstr(tag, s))
    return st.binary(max_size=40).map(lambda b: Tlv.octets(tag, b))


known_tlvs = st.sampled_from(sorted(TLV_TYPES)).flatmap(_known_tlv)
vendor_tlvs = st.builds(
    Tlv,
    st.integers(0, 0xFFFF).filter(lambda t: t not in TLV_TYPES),
    st.binary(max_size=40),
)
tlv_lists = st.lists(st.one_of(known_tlvs, vendor_tlvs), max_size=4).map(tuple)

dest_addresses = st.lists(
    st.one_of(
        st.builds(DestAddress, dest_addr_ton=u8, dest_addr_npi=u8, destination_addr=cstr(21)),
        st.builds(DistributionList, dl_name=cstr(21)),
    ),
    max_size=5,
).map(tuple)
unsuccess_smes = st.lists(
    st.builds(
        UnsuccessSme,
        dest_addr_ton=u8,
        dest_addr_npi=u8,
        destination_addr=cstr(21),
        error_status_code=u32,
    ),
    max_size=5,
).map(tuple)


def _field_strategy(kind: int, limit: int) -> st.SearchStrategy[Any]:
    if kind == CSTR:
        return cstr(limit)
    if kind == U8:
        return u8
    if kind == SM:
        return st.binary(max_size=254)
    if kind == DESTS:
        return dest_addresses
    assert kind == UNSUCCESS
    return unsuccess_smes


def pdus_of(cls: type[Pdu]) -> st.SearchStrategy[Pdu]:
    """Any valid instance of `cls`."""
    kwargs: dict[str, st.SearchStrategy[Any]] = {
        "sequence_number": u32,
        "command_status": st.one_of(st.just(0), u32),
    }
    for name, kind, limit, _ in LAYOUTS.get(cls, ()):
        kwargs[name] = _field_strategy(kind, limit)
    if "tlvs" in {f.name for f in fields(cls)}:
        kwargs["tlvs"] = tlv_lists
    return st.builds(cls, **kwargs)


PDU_TYPES = sorted(PDU_CLASSES.values(), key=lambda c: c.command_id)
any_pdu = st.sampled_from(PDU_TYPES).flatmap(pdus_of)

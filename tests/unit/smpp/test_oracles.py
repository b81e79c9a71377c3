"""Cross-checks against independent codecs: smpplib 2.2.4 (pure Python) for every PDU type
it supports, and smpp34 (Rust) for submit_sm / deliver_sm. Bytes we encode must decode
there to the same fields, and bytes they encode must decode here to the same PDU."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import smpp34
from hypothesis import given, settings
from hypothesis import strategies as st
from smpplib import smpp as smpplib_smpp
from smpplib.consts import OPTIONAL_PARAMS

from smsgate.smpp import (
    AlertNotification,
    BindReceiver,
    BindReceiverResp,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    BindTransmitterResp,
    DataSm,
    DataSmResp,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    Pdu,
    QuerySm,
    QuerySmResp,
    SubmitSm,
    SubmitSmResp,
    Tlv,
    Unbind,
    UnbindResp,
    decode,
    encode,
)


class _Client:
    """smpplib wants a client that hands out sequence numbers even when parsing."""

    sequence = 0

    def next_sequence(self) -> int:
        return 1


def ascii_text(limit: int, min_size: int = 0) -> st.SearchStrategy[str]:
    return st.text(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=min_size, max_size=limit - 1
    )


u8 = st.integers(0, 255)
_BIND = {
    "system_id": ascii_text(16),
    "password": ascii_text(9),
    "system_type": ascii_text(13),
    "interface_version": u8,
    "addr_ton": u8,
    "addr_npi": u8,
    "address_range": ascii_text(41),
}
_SM = {
    "service_type": ascii_text(6),
    "source_addr_ton": u8,
    "source_addr_npi": u8,
    "source_addr": ascii_text(21),
    "dest_addr_ton": u8,
    "dest_addr_npi": u8,
    "destination_addr": ascii_text(21),
    "esm_class": u8,
    "protocol_id": u8,
    "priority_flag": u8,
    "schedule_delivery_time": ascii_text(17),
    "validity_period": ascii_text(17),
    "registered_delivery": u8,
    "replace_if_present_flag": u8,
    "data_coding": u8,
    "sm_default_msg_id": u8,
    "short_message": st.binary(max_size=254),
}
_DATA_SM = {
    k: _SM[k]
    for k in (
        "service_type", "source_addr_ton", "source_addr_npi", "source_addr", "dest_addr_ton",
        "dest_addr_npi", "destination_addr", "esm_class", "registered_delivery", "data_coding",
    )
}  # fmt: skip
_ADDR = {"source_addr_ton": u8, "source_addr_npi": u8, "source_addr": ascii_text(21)}
_MSG_ID = {"message_id": ascii_text(65)}

# TLVs smpplib knows for each PDU with the sizes SMPP 3.4 gives them: ("int", size) | "str" | "ostr"
_SM_TLVS = {
    "user_message_reference": 2, "source_port": 2, "destination_port": 2, "sar_msg_ref_num": 2,
    "sar_total_segments": 1, "sar_segment_seqnum": 1, "more_messages_to_send": 1,
    "payload_type": 1, "privacy_indicator": 1, "language_indicator": 1, "its_session_info": 2,
}  # fmt: skip
_DELIVER_TLVS = {
    **{k: v for k, v in _SM_TLVS.items()},
    "message_state": 1, "receipted_message_id": "str", "network_error_code": "ostr3",
    "source_network_type": 1, "dest_network_type": 1, "user_response_code": 1,
}  # fmt: skip
_DATA_TLVS = {
    **_SM_TLVS,
    "qos_time_to_live": 4, "message_payload": "ostr", "receipted_message_id": "str",
    "message_state": 1, "dest_network_type": 1, "source_network_type": 1,
}  # fmt: skip

# smpplib name: (our class, mandatory fields, TLVs)
CASES: dict[str, tuple[type[Pdu], dict[str, Any], dict[str, Any]]] = {
    "bind_transmitter": (BindTransmitter, _BIND, {}),
    "bind_receiver": (BindReceiver, _BIND, {}),
    "bind_transceiver": (BindTransceiver, _BIND, {}),
    "bind_transmitter_resp": (
        BindTransmitterResp,
        {"system_id": ascii_text(16)},
        {"sc_interface_version": 1},
    ),
    "bind_receiver_resp": (
        BindReceiverResp,
        {"system_id": ascii_text(16)},
        {"sc_interface_version": 1},
    ),
    "bind_transceiver_resp": (
        BindTransceiverResp,
        {"system_id": ascii_text(16)},
        {"sc_interface_version": 1},
    ),
    "submit_sm": (SubmitSm, _SM, _SM_TLVS),
    "submit_sm_resp": (SubmitSmResp, _MSG_ID, {}),
    "deliver_sm": (DeliverSm, _SM, _DELIVER_TLVS),
    "deliver_sm_resp": (DeliverSmResp, _MSG_ID, {}),
    "data_sm": (DataSm, _DATA_SM, _DATA_TLVS),
    "data_sm_resp": (DataSmResp, _MSG_ID, {"additional_status_info_text": "str", "dpf_result": 1}),
    "query_sm": (QuerySm, {"message_id": ascii_text(65, min_size=1), **_ADDR}, {}),
    "query_sm_resp": (
        QuerySmResp,
        {
            "message_id": ascii_text(65),
            "final_date": ascii_text(17),
            "message_state": u8,
            "error_code": u8,
        },
        {},
    ),
    "unbind": (Unbind, {}, {}),
    "unbind_resp": (UnbindResp, {}, {}),
    "enquire_link": (EnquireLink, {}, {}),
    "enquire_link_resp": (EnquireLinkResp, {}, {}),
    "generic_nack": (GenericNack, {}, {}),
    "alert_notification": (
        AlertNotification,
        {**_ADDR, "esme_addr_ton": u8, "esme_addr_npi": u8, "esme_addr": ascii_text(21)},
        {"ms_availability_status": 1},
    ),
}


def _tlv_value(kind: Any) -> st.SearchStrategy[Any]:
    if isinstance(kind, int):
        return st.integers(0, (1 << (8 * kind)) - 1)
    if kind == "str":
        return ascii_text(65, min_size=1)  # smpplib drops empty string TLVs
    if kind == "ostr3":
        return st.binary(min_size=3, max_size=3)
    return st.binary(min_size=1, max_size=100)


def _our_tlv(name: str, kind: Any, value: Any) -> Tlv:
    tag = OPTIONAL_PARAMS[name]
    if isinstance(kind, int):
        return Tlv.int(tag, value)
    if kind == "str":
        return Tlv.cstr(tag, value)
    return Tlv.octets(tag, value)


@st.composite
def cases(draw: st.DrawFn, name: str) -> tuple[Pdu, dict[str, Any]]:
    """(our PDU, the same fields as smpplib kwargs)."""
    cls, mandatory, tlv_kinds = CASES[name]
    fields = {k: draw(v) for k, v in mandatory.items()}
    chosen = draw(st.lists(st.sampled_from(sorted(tlv_kinds)), unique=True)) if tlv_kinds else []
    tlv_values = {k: draw(_tlv_value(tlv_kinds[k])) for k in chosen}
    seq = draw(st.integers(1, 0x7FFFFFFF))
    status = draw(st.integers(0, 0xFF)) if name == "generic_nack" else 0
    extra: dict[str, Any] = {
        "tlvs": tuple(_our_tlv(k, tlv_kinds[k], v) for k, v in tlv_values.items())
    }
    if "tlvs" not in {f.name for f in dataclasses.fields(cls)}:
        extra = {}
    pdu = cls(sequence_number=seq, command_status=status, **fields, **extra)
    theirs = {**fields, **tlv_values, "sequence": seq, "status": status}
    return pdu, theirs


def _expected_on_smpplib(value: Any) -> Any:
    return value.encode("ascii") if isinstance(value, str) else value


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=60)
@given(data=st.data())
def test_our_bytes_decode_in_smpplib(name: str, data: st.DataObject) -> None:
    pdu, fields = data.draw(cases(name))
    parsed = smpplib_smpp.parse_pdu(encode(pdu), client=_Client())
    assert parsed.command == name
    assert parsed.sequence == pdu.sequence_number
    assert parsed.status == pdu.command_status
    for key, value in fields.items():
        if key in ("sequence", "status"):
            continue
        got = getattr(parsed, key)
        if got is None:  # smpplib leaves empty trailing strings unset
            assert value in ("", b"")
        else:
            assert got == _expected_on_smpplib(value), key


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=60)
@given(data=st.data())
def test_smpplib_bytes_decode_here(name: str, data: st.DataObject) -> None:
    pdu, fields = data.draw(cases(name))
    theirs = smpplib_smpp.make_pdu(name, client=_Client(), **fields)
    for key, value in fields.items():  # smpplib keeps its own defaults over some kwargs
        setattr(theirs, key, value)
    frame = theirs.generate()
    ours = decode(frame)
    assert type(ours) is type(pdu)
    # smpplib writes TLVs in its own order: compare them as a mapping
    tlvs = getattr(pdu, "tlvs", ())
    assert {t.tag: t.value for t in getattr(ours, "tlvs", ())} == {t.tag: t.value for t in tlvs}
    if tlvs:
        ours = type(ours)(**{**_fields_of(ours), "tlvs": tlvs})
    assert ours == pdu


def _fields_of(pdu: Pdu) -> dict[str, Any]:
    return {f.name: getattr(pdu, f.name) for f in dataclasses.fields(pdu)}


def test_error_response_without_body_decodes_in_smpplib() -> None:
    frame = encode(SubmitSmResp(sequence_number=4, command_status=0x45))
    parsed = smpplib_smpp.parse_pdu(frame, client=_Client())
    assert (parsed.command, parsed.status, parsed.sequence) == ("submit_sm_resp", 0x45, 4)


_SM34 = {
    k: v for k, v in _SM.items() if k not in ("source_addr", "destination_addr", "short_message")
}


@pytest.mark.parametrize(
    ("ours", "theirs"), [(SubmitSm, smpp34.SubmitSm), (DeliverSm, smpp34.DeliverSm)]
)
@settings(max_examples=100)
@given(data=st.data())
def test_smpp34_agrees_byte_for_byte(ours: type[Pdu], theirs: Any, data: st.DataObject) -> None:
    fields = {k: data.draw(v) for k, v in _SM34.items()}
    src, dst = data.draw(ascii_text(21)), data.draw(ascii_text(21))
    sm = data.draw(st.binary(max_size=254))
    tlvs = data.draw(
        st.lists(st.builds(Tlv, st.integers(0x1400, 0x3FFF), st.binary(max_size=30)), max_size=3)
    )
    seq = data.draw(st.integers(1, 0x7FFFFFFF))
    other = theirs(
        src, dst, sm, **fields, tlvs=[smpp34.Tlv(t.tag, t.value) for t in tlvs], sequence_number=seq
    )
    pdu = ours(
        sequence_number=seq,
        source_addr=src,
        destination_addr=dst,
        short_message=sm,
        tlvs=tuple(tlvs),
        **fields,
    )
    assert encode(pdu) == other.encode()
    back = smpp34.decode(encode(pdu))
    assert (back.source_addr, back.destination_addr, back.short_message) == (src, dst, sm)
    assert [(t.tag, t.value) for t in back.tlvs] == [(t.tag, t.value) for t in tlvs]

"""Property tests: every PDU type round-trips, and the hot paths agree with the table (on
well-formed, damaged and out-of-range PDUs). Slow (some 20 s), so in the fuzz suite."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsgate.smpp import (
    CommandId,
    DeliverSm,
    DeliverSmResp,
    Pdu,
    PduDecodeError,
    PduEncodeError,
    SubmitSm,
    SubmitSmResp,
    decode,
    encode,
)
from smsgate.smpp.codec import decode_body, encode_body
from tests.unit.smpp.strategies import PDU_TYPES, any_pdu, cstr, pdus_of, tlv_lists

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("cls", PDU_TYPES, ids=lambda c: c.__name__)
@settings(max_examples=150)
@given(data=st.data())
def test_every_pdu_type_round_trips(cls: type[Pdu], data: st.DataObject) -> None:
    pdu = data.draw(pdus_of(cls))
    frame = encode(pdu)
    assert int.from_bytes(frame[:4], "big") == len(frame)
    assert int.from_bytes(frame[4:8], "big") == cls.command_id
    assert decode(frame) == pdu


@settings(max_examples=300)
@given(any_pdu)
def test_table_driven_path_gives_the_same_bytes(pdu: Pdu) -> None:
    frame = encode(pdu)
    assert encode_body(pdu) == frame
    assert decode_body(type(pdu), frame, pdu.command_status, pdu.sequence_number) == pdu


_HOT = (SubmitSm, DeliverSm, SubmitSmResp, DeliverSmResp)


def _decode_both(frame: bytes) -> tuple[object, object]:
    """(fast result or error status, table-driven result or error status)."""
    results: list[object] = []
    try:
        results.append(decode(frame))
    except PduDecodeError as exc:
        results.append(exc.status)
    cls = {c.command_id: c for c in _HOT}[CommandId(int.from_bytes(frame[4:8], "big"))]
    try:
        status, seq = int.from_bytes(frame[8:12], "big"), int.from_bytes(frame[12:16], "big")
        results.append(decode_body(cls, frame, status, seq))
    except PduDecodeError as exc:
        results.append(exc.status)
    return results[0], results[1]


@settings(max_examples=500)
@given(
    st.sampled_from(_HOT).flatmap(pdus_of),
    st.integers(16, 300),
    st.binary(min_size=1, max_size=4),
)
def test_hot_decoders_agree_with_table_on_damaged_frames(pdu: Pdu, cut: int, junk: bytes) -> None:
    frame = bytearray(encode(pdu))
    pos = min(cut, len(frame) - 1)
    frame[pos : pos + len(junk)] = junk  # overwrite (or extend) with arbitrary octets
    frame[:4] = len(frame).to_bytes(4, "big")
    fast, table = _decode_both(bytes(frame))
    if isinstance(fast, Pdu):
        assert fast == table
    else:
        assert isinstance(table, int)


@settings(max_examples=200)
@given(
    st.builds(
        SubmitSm,
        sequence_number=st.integers(0, 0xFFFFFFFF),
        service_type=cstr(8),
        source_addr=cstr(24),
        destination_addr=cstr(24),
        schedule_delivery_time=cstr(19),
        short_message=st.binary(max_size=258),
        esm_class=st.integers(-1, 256),
        tlvs=tlv_lists,
    )
)
def test_hot_encoder_agrees_with_table_at_the_limits(pdu: SubmitSm) -> None:
    try:
        fast: bytes | type[PduEncodeError] = encode(pdu)
    except PduEncodeError:
        fast = PduEncodeError
    try:
        table: bytes | type[PduEncodeError] = encode_body(pdu)
    except PduEncodeError:
        table = PduEncodeError
    assert fast == table

"""Round trip of a frame with unknown TLVs; the property tests (every PDU type, the hot
paths against the table) are in tests/fuzz/test_smpp_roundtrip.py."""

from __future__ import annotations

from smsgate.smpp import SubmitSm, Tlv, decode, encode


def test_unknown_tlvs_keep_their_order_and_bytes() -> None:
    tlvs = (Tlv(0x1500, b"\x00\x01\x02"), Tlv(0x0204, b"\x00\x07"), Tlv(0x1400, b""))
    pdu = SubmitSm(sequence_number=1, tlvs=tlvs)
    frame = encode(pdu)
    assert frame.endswith(
        bytes.fromhex("1500 0003 000102 0204 0002 0007 1400 0000".replace(" ", ""))
    )
    assert decode(frame).tlvs == tlvs  # type: ignore[union-attr]

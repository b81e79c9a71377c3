"""Golden byte vectors written by hand from SMPP 3.4 §4 (one per PDU type) and the
decode/encode errors the specification implies."""

from __future__ import annotations

import pytest

from smsgate.smpp import (
    PDU_CLASSES,
    AlertNotification,
    BindReceiver,
    BindReceiverResp,
    BindTransceiver,
    BindTransceiverResp,
    BindTransmitter,
    BindTransmitterResp,
    CancelSm,
    CancelSmResp,
    CommandStatus,
    DataSm,
    DataSmResp,
    DeliverSm,
    DeliverSmResp,
    DestAddress,
    DistributionList,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    Outbind,
    Pdu,
    PduDecodeError,
    PduEncodeError,
    QuerySm,
    QuerySmResp,
    ReplaceSm,
    ReplaceSmResp,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    SubmitSmResp,
    Tlv,
    TlvTag,
    Unbind,
    UnbindResp,
    UnsuccessSme,
    decode,
    encode,
)
from smsgate.smpp.codec import decode_body, encode_body

S = CommandStatus
# "smppclient1\0" "password\0" system_type "\0" interface_version 0x34, addr_ton 0, addr_npi 0,
# address_range "\0"
_BIND_BODY = "736d7070636c69656e743100 70617373776f726400 00 34 00 00 00"
_BIND = {"system_id": "smppclient1", "password": "password"}

GOLDEN: list[tuple[str, Pdu]] = [
    ("00000010 00000015 00000000 00000001", EnquireLink(sequence_number=1)),
    ("00000010 80000015 00000000 00000001", EnquireLinkResp(sequence_number=1)),
    ("00000010 00000006 00000000 00000002", Unbind(sequence_number=2)),
    ("00000010 80000006 00000000 00000002", UnbindResp(sequence_number=2)),
    ("00000010 80000000 00000003 00000005", GenericNack(sequence_number=5, command_status=3)),
    (
        f"0000002a 00000002 00000000 00000001 {_BIND_BODY}",
        BindTransmitter(sequence_number=1, **_BIND),
    ),
    (f"0000002a 00000001 00000000 00000001 {_BIND_BODY}", BindReceiver(sequence_number=1, **_BIND)),
    (
        f"0000002a 00000009 00000000 00000001 {_BIND_BODY}",
        BindTransceiver(sequence_number=1, **_BIND),
    ),
    (
        "00000015 80000002 00000000 00000001 534d534300",
        BindTransmitterResp(sequence_number=1, system_id="SMSC"),
    ),
    (  # with sc_interface_version TLV (0x0210, length 1, 0x34)
        "0000001a 80000009 00000000 00000001 534d534300 0210 0001 34",
        BindTransceiverResp(
            sequence_number=1,
            system_id="SMSC",
            tlvs=(Tlv.int(TlvTag.SC_INTERFACE_VERSION, 0x34),),
        ),
    ),
    (  # a failed bind: no body (§4.1.2)
        "00000010 80000001 0000000d 00000001",
        BindReceiverResp(sequence_number=1, command_status=S.ESME_RBINDFAIL),
    ),
    (
        "00000018 0000000b 00000000 00000001 534d534300 707700",
        Outbind(sequence_number=1, system_id="SMSC", password="pw"),
    ),
    (
        "00000043 00000004 00000000 00000002"
        " 00 05 00 42616e6b00 01 01 3439313531323334353637383900"  # service_type, source, dest
        " 00 00 00 00 00"  # esm_class, protocol_id, priority_flag, schedule, validity
        " 01 00 00 00 05 48656c6c6f"  # registered_delivery .. sm_length, short_message
        " 0204 0002 0007 1400 0002 6162",  # user_message_reference=7, vendor TLV 0x1400
        SubmitSm(
            sequence_number=2,
            source_addr_ton=5,
            source_addr="Bank",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr="4915123456789",
            registered_delivery=1,
            short_message=b"Hello",
            tlvs=(Tlv(0x0204, b"\x00\x07"), Tlv(0x1400, b"ab")),
        ),
    ),
    (
        "00000017 80000004 00000000 00000002 61626331323300",
        SubmitSmResp(sequence_number=2, message_id="abc123"),
    ),
    (  # an error submit_sm_resp without message_id (§4.4.2)
        "00000010 80000004 00000058 00000002",
        SubmitSmResp(sequence_number=2, command_status=S.ESME_RTHROTTLED),
    ),
    (
        "00000058 00000005 00000000 00000009"
        " 00 01 01 3439313531323334353637383900 05 00 42616e6b00"
        " 04 00 00 00 00 00 00 00 00"
        " 16 69643a61626331323320737461743a44454c49565244"  # "id:abc123 stat:DELIVRD"
        " 001e 0007 61626331323300 0427 0001 02",  # receipted_message_id, message_state
        DeliverSm(
            sequence_number=9,
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="4915123456789",
            dest_addr_ton=5,
            destination_addr="Bank",
            esm_class=0x04,
            short_message=b"id:abc123 stat:DELIVRD",
            tlvs=(
                Tlv.cstr(TlvTag.RECEIPTED_MESSAGE_ID, "abc123"),
                Tlv.int(TlvTag.MESSAGE_STATE, 2),
            ),
        ),
    ),
    ("00000011 80000005 00000000 00000009 00", DeliverSmResp(sequence_number=9)),
    (
        "0000001f 00000003 00000000 00000003 61626331323300 01 01 313233343500",
        QuerySm(
            sequence_number=3,
            message_id="abc123",
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="12345",
        ),
    ),
    (
        "0000001a 80000003 00000000 00000003 61626331323300 00 02 00",
        QuerySmResp(sequence_number=3, message_id="abc123", message_state=2),
    ),
    (
        "0000001e 00000008 00000000 00000004 00 61626331323300 00 00 00 00 00 00",
        CancelSm(sequence_number=4, message_id="abc123"),
    ),
    ("00000010 80000008 00000000 00000004", CancelSmResp(sequence_number=4)),
    (
        "00000037 00000007 00000000 00000005 61626331323300 01 01 313233343500"
        " 00 30303030303130303030303030303052 00 01 00 03 4e6577",
        ReplaceSm(
            sequence_number=5,
            message_id="abc123",
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="12345",
            validity_period="000001000000000R",
            registered_delivery=1,
            short_message=b"New",
        ),
    ),
    ("00000010 80000007 00000000 00000005", ReplaceSmResp(sequence_number=5)),
    (
        "0000002d 00000102 00000000 00000006 01 01 3439313531323334353637383900"
        " 01 01 313233343500 0422 0001 00",
        AlertNotification(
            sequence_number=6,
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="4915123456789",
            esme_addr_ton=1,
            esme_addr_npi=1,
            esme_addr="12345",
            tlvs=(Tlv.int(TlvTag.MS_AVAILABILITY_STATUS, 0),),
        ),
    ),
    (
        "00000031 00000103 00000000 00000007 00 05 00 42616e6b00 01 01 3439313531323334353637383900"
        " 00 01 08 0424 0002 0041",
        DataSm(
            sequence_number=7,
            source_addr_ton=5,
            source_addr="Bank",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr="4915123456789",
            registered_delivery=1,
            data_coding=8,
            tlvs=(Tlv.octets(TlvTag.MESSAGE_PAYLOAD, "A".encode("utf-16-be")),),
        ),
    ),
    ("00000013 80000103 00000000 00000007 6d3100", DataSmResp(sequence_number=7, message_id="m1")),
    (
        "00000033 00000021 00000000 00000008 00 01 01 313233343500"
        " 02 01 01 01 31313100 02 6c69737400"  # number_of_dests 2: SME 1/1 "111", DL "list"
        " 00 00 00 00 00 00 00 00 00 02 4869",
        SubmitMulti(
            sequence_number=8,
            source_addr_ton=1,
            source_addr_npi=1,
            source_addr="12345",
            dest_addresses=(
                DestAddress(dest_addr_ton=1, dest_addr_npi=1, destination_addr="111"),
                DistributionList(dl_name="list"),
            ),
            short_message=b"Hi",
        ),
    ),
    (
        "0000001e 80000021 00000000 00000008 6d3200 01 01 01 31313100 0000000b",
        SubmitMultiResp(
            sequence_number=8,
            message_id="m2",
            unsuccess_smes=(
                UnsuccessSme(
                    dest_addr_ton=1, dest_addr_npi=1, destination_addr="111", error_status_code=0x0B
                ),
            ),
        ),
    ),
]


@pytest.mark.parametrize(
    ("hexstr", "pdu"), GOLDEN, ids=lambda v: type(v).__name__ if not isinstance(v, str) else ""
)
def test_golden_vector(hexstr: str, pdu: Pdu) -> None:
    frame = bytes.fromhex(hexstr.replace(" ", ""))
    assert encode(pdu) == frame
    assert decode(frame) == pdu
    # the table-driven path agrees with the hot paths
    assert encode_body(pdu) == frame
    assert decode_body(type(pdu), frame, pdu.command_status, pdu.sequence_number) == pdu


def test_golden_covers_every_pdu_type() -> None:
    from smsgate.smpp import PDU_CLASSES

    assert {type(p) for _, p in GOLDEN} == set(PDU_CLASSES.values())


def test_vendor_status_decodes_as_int() -> None:
    frame = bytes.fromhex("00000010 80000004 00000401 00000002".replace(" ", ""))
    pdu = decode(frame)
    assert pdu.command_status == 0x401
    assert "vendor" in CommandStatus.describe(pdu.command_status)


def test_bytearray_frame_decodes_to_bytes_fields() -> None:
    frame = encode(SubmitSm(sequence_number=1, short_message=b"x"))
    pdu = decode(bytearray(frame))
    assert isinstance(pdu, SubmitSm)
    assert type(pdu.short_message) is bytes


def test_success_response_with_empty_body_is_tolerated() -> None:
    frame = bytes.fromhex("00000010 80000004 00000000 00000002".replace(" ", ""))
    assert decode(frame) == SubmitSmResp(sequence_number=2)


def test_error_response_with_body_keeps_it() -> None:
    pdu = SubmitSmResp(sequence_number=2, command_status=8, message_id="x")
    assert encode(pdu)[16:] == b"x\0"
    assert decode(encode(pdu)) == pdu


def _hex(s: str) -> bytes:
    return bytes.fromhex(s.replace(" ", ""))


def _submit_frame(body: bytes) -> bytes:
    return (16 + len(body)).to_bytes(4, "big") + _hex("00000004 00000000 0000002a") + body


_OK_BODY = (
    b"\0" + b"\x05\x00Bank\0" + b"\x01\x01123\0" + b"\0\0\0" + b"\0\0" + b"\0\0\0\0" + b"\x02hi"
)


@pytest.mark.parametrize(
    ("frame", "status", "seq"),
    [
        (b"\0\0\0\x10\0\0\0\x15", S.ESME_RINVCMDLEN, None),  # shorter than a header
        (_hex("00000011 00000015 00000000 00000007"), S.ESME_RINVCMDLEN, 7),  # length mismatch
        (
            _hex("00000011 00000015 00000000 00000007 00"),
            S.ESME_RINVCMDLEN,
            7,
        ),  # body on enquire_link
        (_hex("00000010 00000099 00000000 00000007"), S.ESME_RINVCMDID, 7),  # unknown command_id
        (
            _hex("00000010 00000004 00000000 00000007"),
            S.ESME_RINVCMDLEN,
            7,
        ),  # submit_sm without body
        (_submit_frame(b"CMT\0\x05\x00" + b"A" * 21 + b"\0"), S.ESME_RINVSRCADR, 42),
        (_submit_frame(b"ABCDEF\0"), S.ESME_RINVSERTYP, 42),  # service_type max 5 chars
        (_submit_frame(b"\0\x05\x00Bank"), S.ESME_RINVCMDLEN, 42),  # no NUL before the end
        (_submit_frame(b"\0\x05\x00Bank\0\x01"), S.ESME_RINVCMDLEN, 42),  # ends inside dest
        (
            _submit_frame(_OK_BODY[:-3] + b"\xff" + b"x" * 255),
            S.ESME_RINVMSGLEN,
            42,
        ),  # sm_length 255
        (_submit_frame(_OK_BODY[:-3] + b"\x09hi"), S.ESME_RINVMSGLEN, 42),  # sm_length past end
        (_submit_frame(_OK_BODY + b"\x02\x04\x00"), S.ESME_RINVOPTPARSTREAM, 42),  # 3-octet TLV
        (_submit_frame(_OK_BODY + _hex("1400 0005 0102")), S.ESME_RINVOPTPARSTREAM, 42),
        (_submit_frame(_OK_BODY + _hex("0204 0001 07")), S.ESME_RINVPARLEN, 42),  # int size 2
    ],
)
def test_decode_errors_carry_status_and_sequence(
    frame: bytes, status: int, seq: int | None
) -> None:
    with pytest.raises(PduDecodeError) as info:
        decode(frame)
    assert info.value.status == status
    assert info.value.sequence_number == seq


def test_ok_body_is_valid() -> None:
    pdu = decode(_submit_frame(_OK_BODY))
    assert isinstance(pdu, SubmitSm)
    assert pdu.short_message == b"hi"


def _multi(dests: bytes, tail: bytes = b"\0" * 10) -> bytes:
    body = b"\0\x01\x01123\0" + dests + tail
    return (16 + len(body)).to_bytes(4, "big") + _hex("00000021 00000000 00000003") + body


@pytest.mark.parametrize(
    ("dests", "status"),
    [
        (b"\xff", S.ESME_RINVNUMDESTS),
        (b"\x01\x03", S.ESME_RINVDESTFLAG),
        (b"\x01\x02" + b"L" * 21 + b"\0", S.ESME_RINVDLNAME),
        (b"\x01\x01\x01\x01" + b"9" * 21 + b"\0", S.ESME_RINVDSTADR),
    ],
)
def test_submit_multi_destination_errors(dests: bytes, status: int) -> None:
    with pytest.raises(PduDecodeError) as info:
        decode(_multi(dests))
    assert info.value.status == status
    assert info.value.command_id == 0x21


def test_submit_multi_truncated_inside_a_destination() -> None:
    with pytest.raises(PduDecodeError) as info:
        decode(_multi(b"\x01\x01\x01", tail=b""))
    assert info.value.status == S.ESME_RINVCMDLEN


def test_submit_multi_resp_truncated_error_code() -> None:
    frame = _hex("0000001b 80000021 00000000 00000008 6d3200 01 01 01 31313100 0000")
    with pytest.raises(PduDecodeError) as info:
        decode(frame)
    assert info.value.status == S.ESME_RINVCMDLEN


@pytest.mark.parametrize(
    "pdu",
    [
        SubmitSm(sequence_number=1, source_addr="A" * 21),
        SubmitSm(sequence_number=1, destination_addr="1\x002"),
        SubmitSm(sequence_number=1, service_type="€"),
        SubmitSm(sequence_number=1, short_message=b"x" * 255),
        SubmitSm(sequence_number=1, esm_class=256),
        SubmitSm(sequence_number=-1),
        SubmitSm(sequence_number=1, command_status=1 << 32),
        SubmitSm(sequence_number=1, tlvs=(Tlv(0x0204, b"\x01"),)),
        SubmitSm(sequence_number=1, tlvs=(Tlv(0x10000, b""),)),
        SubmitSm(sequence_number=1, tlvs=(Tlv(0x1400, b"x" * 65536),)),
        SubmitSm(sequence_number=1, schedule_delivery_time="1" * 17),
        SubmitSm(sequence_number=1, short_message="text"),  # type: ignore[arg-type]
        SubmitSmResp(sequence_number=1, message_id="m" * 65),
        SubmitSmResp(sequence_number=1, message_id="é€"),
        SubmitSmResp(sequence_number=1 << 33),
        SubmitSmResp(sequence_number=1, message_id=5),  # type: ignore[arg-type]
        BindTransmitter(sequence_number=1, password="123456789"),
        QuerySmResp(sequence_number=1, final_date="x" * 17),
        SubmitMulti(sequence_number=1, dest_addresses=(DestAddress(),) * 255),
        SubmitMulti(sequence_number=1, dest_addresses=("111",)),  # type: ignore[arg-type]
        SubmitMulti(sequence_number=1, dest_addresses=[DestAddress()]),  # type: ignore[arg-type]
        SubmitMulti(sequence_number=1, dest_addresses=(DistributionList(dl_name="L" * 21),)),
        SubmitMultiResp(sequence_number=1, unsuccess_smes=(UnsuccessSme(error_status_code=-1),)),
        SubmitMultiResp(sequence_number=1, unsuccess_smes=("x",)),  # type: ignore[arg-type]
        SubmitMultiResp(sequence_number=1, unsuccess_smes=(UnsuccessSme(),) * 256),
    ],
)
def test_encode_refuses_out_of_spec_fields(pdu: Pdu) -> None:
    with pytest.raises(PduEncodeError):
        encode(pdu)


def test_encode_refuses_non_pdu() -> None:
    from smsgate.smpp import PduBase

    with pytest.raises(PduEncodeError):
        encode(PduBase(sequence_number=1))  # type: ignore[arg-type]


def test_limits_accept_the_maximum() -> None:
    pdu = SubmitSm(
        sequence_number=0x7FFFFFFF,
        service_type="ABCDE",
        source_addr="A" * 20,
        destination_addr="9" * 20,
        schedule_delivery_time="240101120000000+",
        validity_period="000001000000000R",
        short_message=b"\xff" * 254,
    )
    assert decode(encode(pdu)) == pdu


@pytest.mark.parametrize(
    "cls",
    [c for c in PDU_CLASSES.values() if c.command_id.is_response],
    ids=lambda c: c.__name__,
)
def test_every_error_response_is_header_only(cls: type[Pdu]) -> None:
    pdu = cls(sequence_number=3, command_status=S.ESME_RSYSERR)
    frame = encode(pdu)
    assert frame == bytes.fromhex(
        f"00000010 {cls.command_id:08x} 00000008 00000003".replace(" ", "")
    )
    assert decode(frame) == pdu

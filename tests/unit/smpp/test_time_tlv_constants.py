"""SMPP time strings (§7.1.1), TLV helpers (§5.3) and constants (§5.1-§5.2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgate.smpp import (
    CommandId,
    CommandStatus,
    DataCoding,
    EsmClass,
    InvalidSmppTime,
    MessageState,
    PduEncodeError,
    RegisteredDelivery,
    Tlv,
    TlvTag,
    TlvType,
    format_relative_smpp_time,
    format_smpp_time,
    get_tlv,
    parse_smpp_time,
    tlv_value,
)
from smsgate.smpp.tlv import TLV_TYPES

NOW = datetime(2024, 1, 31, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None),
        ("240101120000000+", datetime(2024, 1, 1, 12, 0, tzinfo=UTC)),
        ("240101120000104+", datetime(2024, 1, 1, 11, 0, 0, 100_000, tzinfo=UTC)),  # UTC+1h
        ("240101120000008-", datetime(2024, 1, 1, 14, 0, tzinfo=UTC)),  # UTC-2h
        ("000001000000000R", NOW + timedelta(days=1)),
        ("000000013000000R", NOW + timedelta(hours=1, minutes=30)),
        ("000100000000000R", datetime(2024, 2, 29, 12, 0, tzinfo=UTC)),  # Jan 31 + 1 month
        ("011100000000000R", datetime(2025, 12, 31, 12, 0, tzinfo=UTC)),  # 1 year 11 months
    ],
)
def test_parse_smpp_time(text: str, expected: datetime | None) -> None:
    assert parse_smpp_time(text, NOW) == expected


def test_relative_time_from_naive_now() -> None:
    assert parse_smpp_time("000000000010000R", datetime(2024, 1, 1)) == datetime(
        2024, 1, 1, 0, 0, 10, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "text",
    [
        "2401011200",
        "240101120000000*",
        "24010112000000+",
        "241301120000000+",
        "240101120000049+",
        "2401011200a0000+",
        "²40101120000000+",
    ],
)
def test_invalid_smpp_time(text: str) -> None:
    with pytest.raises(InvalidSmppTime):
        parse_smpp_time(text, NOW)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)))
def test_format_parse_round_trip(dt: datetime) -> None:
    dt = dt.replace(microsecond=dt.microsecond // 100_000 * 100_000)
    text = format_smpp_time(dt)
    assert len(text) == 16
    assert parse_smpp_time(text, NOW) == dt.replace(tzinfo=UTC)


def test_format_converts_to_utc() -> None:
    dt = datetime(2024, 5, 6, 9, 8, 9, 500_000, tzinfo=timezone(timedelta(hours=2)))
    assert format_smpp_time(dt) == "240506070809500+"
    with pytest.raises(InvalidSmppTime):
        format_smpp_time(datetime(1999, 12, 31, tzinfo=UTC))


def test_relative_format() -> None:
    assert format_relative_smpp_time(timedelta(days=2, hours=3, seconds=5)) == "000002030005000R"
    assert parse_smpp_time(format_relative_smpp_time(timedelta(hours=48)), NOW) == NOW + timedelta(
        2
    )
    for bad in (timedelta(days=100), timedelta(seconds=-1)):
        with pytest.raises(InvalidSmppTime):
            format_relative_smpp_time(bad)


# --- TLVs -----------------------------------------------------------------------------------


def test_tlv_helpers_and_type_table() -> None:
    tlvs = (
        Tlv.int(TlvTag.SAR_MSG_REF_NUM, 0x1234),
        Tlv.int(TlvTag.QOS_TIME_TO_LIVE, 86400),
        Tlv.cstr(TlvTag.RECEIPTED_MESSAGE_ID, "abc"),
        Tlv.octets(TlvTag.MESSAGE_PAYLOAD, b"\x00\x01"),
        Tlv.int(0x1400, 7, size=2),
        Tlv(0x1401, b"raw"),
    )
    assert tlvs[0].value == b"\x12\x34"
    assert tlvs[2].value == b"abc\0"
    assert tlv_value(tlvs, TlvTag.SAR_MSG_REF_NUM) == 0x1234
    assert tlv_value(tlvs, TlvTag.QOS_TIME_TO_LIVE) == 86400
    assert tlv_value(tlvs, TlvTag.RECEIPTED_MESSAGE_ID) == "abc"
    assert tlv_value(tlvs, TlvTag.MESSAGE_PAYLOAD) == b"\x00\x01"
    assert tlv_value(tlvs, 0x1400) == b"\x00\x07"  # vendor tags read as octets
    assert tlv_value(tlvs, TlvTag.MESSAGE_STATE) is None
    assert get_tlv(tlvs, 0x1401) == Tlv(0x1401, b"raw")
    assert get_tlv(tlvs, 0x1402) is None


def test_cstr_tlv_without_nul_is_tolerated() -> None:
    assert (
        tlv_value((Tlv(TlvTag.RECEIPTED_MESSAGE_ID, b"ab12"),), TlvTag.RECEIPTED_MESSAGE_ID)
        == "ab12"
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: Tlv.int(TlvTag.MESSAGE_STATE, 256),
        lambda: Tlv.int(TlvTag.SAR_MSG_REF_NUM, -1),
        lambda: Tlv.int(0x1400, 1),  # vendor tag without a size
        lambda: Tlv.int(TlvTag.MESSAGE_PAYLOAD, 1),  # not an integer TLV
        lambda: Tlv.cstr(TlvTag.RECEIPTED_MESSAGE_ID, "a\0b"),
        lambda: Tlv.cstr(TlvTag.RECEIPTED_MESSAGE_ID, "€"),
    ],
)
def test_tlv_helpers_refuse_bad_values(make: object) -> None:
    with pytest.raises(PduEncodeError):
        make()  # type: ignore[operator]


def test_every_standard_tag_is_typed() -> None:
    assert set(TLV_TYPES) == set(TlvTag)
    assert TLV_TYPES[TlvTag.MESSAGE_STATE] is TlvType.INT1


# --- constants ------------------------------------------------------------------------------


def test_command_ids() -> None:
    assert len(CommandId) == 27
    for command in CommandId:
        if command is not CommandId.GENERIC_NACK and command.is_response:
            assert CommandId(command & 0x7FFFFFFF)  # every response has its request
    assert CommandId.GENERIC_NACK.is_response
    assert not CommandId.DATA_SM.is_response


def test_statuses_have_descriptions() -> None:
    assert len(CommandStatus) == 48
    for status in CommandStatus:
        assert status.description
    assert CommandStatus.ESME_RTHROTTLED == 0x58
    assert CommandStatus.describe(0x58) == (
        "ESME_RTHROTTLED (0x00000058): Throttling error (ESME has exceeded allowed message limits)"
    )
    assert CommandStatus.describe(0x0400) == "0x00000400: vendor-specific error"
    assert CommandStatus.describe(0x1234) == "0x00001234: unknown status"


def test_flags_and_codes() -> None:
    esm = EsmClass.DELIVERY_RECEIPT | EsmClass.UDHI
    assert esm == 0x44
    assert esm & EsmClass.TYPE_MASK == EsmClass.DELIVERY_RECEIPT
    assert EsmClass(0xFF) == 0xFF
    assert (
        RegisteredDelivery(0x11) & RegisteredDelivery.RECEIPT_MASK
        == RegisteredDelivery.RECEIPT_ALWAYS
    )
    assert [int(d) for d in DataCoding] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14]
    assert [int(m) for m in MessageState] == list(range(1, 9))

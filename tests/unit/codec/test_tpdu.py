"""3GPP TS 23.040 TPDUs: golden vectors, field encodings, round trips, fuzzing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from smsgate.codec import (
    Address,
    SmsDeliver,
    SmsStatusReport,
    SmsSubmit,
    StatusCategory,
    Ton,
    TpduError,
    build_concat_udh,
    decode_tpdu,
    decode_with_smsc,
    encode_gsm7,
    encode_with_smsc,
    split,
    vp_relative_from_seconds,
    vp_relative_seconds,
)

DELIVER = "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07"
SUBMIT = "0011000B916407281553F80000AA0AE8329BFD4697D9EC37"
STATUS = "07911326040000F0062A0B911346610089F6208062917314082080629183140800"
SMSC = Address("31624000000", Ton.INTERNATIONAL, 1)
PHONE = Address("31641600986", Ton.INTERNATIONAL, 1)
T0 = datetime(2002, 8, 26, 19, 37, 41, tzinfo=UTC)


def test_golden_deliver() -> None:
    smsc, tpdu = decode_with_smsc(bytes.fromhex(DELIVER), "mt")
    assert smsc == SMSC
    assert tpdu == SmsDeliver(PHONE, T0, b"How are you?")
    assert tpdu.text == "How are you?"
    assert str(tpdu.originator) == "+31641600986"
    # The vector's time zone octet 0x08 is a "negative zero": it reads as UTC and is
    # written back as 0x00, the one octet that differs on re-encoding.
    assert encode_with_smsc(tpdu, smsc).hex().upper() == DELIVER[:50] + "00" + DELIVER[52:]


def test_golden_submit() -> None:
    smsc, tpdu = decode_with_smsc(bytes.fromhex(SUBMIT), "mo")
    assert smsc is None
    expected = SmsSubmit(Address("46708251358", Ton.INTERNATIONAL), b"hellohello", validity=0xAA)
    assert tpdu == expected
    assert tpdu.text == "hellohello"
    assert vp_relative_seconds(0xAA) == 4 * 86400
    assert encode_with_smsc(expected).hex().upper() == SUBMIT
    assert decode_tpdu(bytes.fromhex(SUBMIT[2:]), direction="mo") == expected


def test_golden_status_report() -> None:
    smsc, tpdu = decode_with_smsc(bytes.fromhex(STATUS), "mt")
    assert smsc == SMSC
    assert tpdu == SmsStatusReport(42, PHONE, T0, T0 + timedelta(minutes=1), 0)
    assert isinstance(tpdu, SmsStatusReport)
    assert tpdu.category is StatusCategory.COMPLETED
    assert tpdu.text == ""
    encoded = encode_with_smsc(tpdu, smsc).hex().upper()
    assert encoded == STATUS.replace("1408", "1400")


@pytest.mark.parametrize(
    ("status", "category"),
    [(0x00, StatusCategory.COMPLETED), (0x02, StatusCategory.COMPLETED),
     (0x20, StatusCategory.TEMPORARY_TRYING), (0x41, StatusCategory.PERMANENT),
     (0x65, StatusCategory.TEMPORARY_STOPPED), (0x80, StatusCategory.PERMANENT)],
)  # fmt: skip
def test_status_categories(status: int, category: StatusCategory) -> None:
    assert SmsStatusReport(1, PHONE, T0, T0, status).category is category


def test_status_report_with_optional_parameters() -> None:
    report = SmsStatusReport(
        7, PHONE, T0, T0, 0x41, pid=0x00, dcs=0x08, user_data="ok".encode("utf-16-be")
    )
    raw = report.encode()
    assert raw.endswith(bytes.fromhex("4107000804006F006B"))
    decoded = decode_tpdu(raw, direction="mt")
    assert decoded == report
    assert isinstance(decoded, SmsStatusReport)
    assert decoded.text == "ok"
    # A TP-PI with the extension bit is followed by another PI octet (TS 23.040 §9.2.3.27).
    decoded = decode_tpdu(raw[:-8] + bytes.fromhex("8200") + b"\x08", direction="mt")
    assert isinstance(decoded, SmsStatusReport)
    assert (decoded.pid, decoded.dcs, decoded.user_data) == (None, 0x08, None)


@pytest.mark.parametrize(
    ("address", "encoded"),
    [
        (Address("46708251358", Ton.INTERNATIONAL), "0B916407281553F8"),
        (Address("0612345678", Ton.NATIONAL), "0AA16021436587"),
        (Address("*100#", Ton.UNKNOWN), "05811A00FB"),
        (Address("", Ton.UNKNOWN), "0081"),
        # "Design@Home", the TS 23.040 alphanumeric example: 11 septets, 20 semi-octets
        (Address("Design@Home", Ton.ALPHANUMERIC, 0), "14D0C4F23C7D760390EF7619"),
    ],
)
def test_address_encoding(address: Address, encoded: str) -> None:
    tpdu = SmsSubmit(address)
    raw = tpdu.encode()
    assert raw[2 : 2 + len(encoded) // 2].hex().upper() == encoded
    assert decode_tpdu(raw, direction="mo") == tpdu


def test_address_parse_and_str() -> None:
    assert Address.parse("+4670") == Address("4670", Ton.INTERNATIONAL, 1)
    assert Address.parse("12345") == Address("12345", Ton.UNKNOWN, 1)
    assert Address.parse("MyShop") == Address("MyShop", Ton.ALPHANUMERIC, 0)
    assert Address.parse("+12ab").ton is Ton.ALPHANUMERIC
    assert str(Address.parse("+4670")) == "+4670"
    assert str(Address.parse("MyShop")) == "MyShop"


@pytest.mark.parametrize(
    "address",
    [
        Address("1" * 21, Ton.INTERNATIONAL),
        Address("12-3", Ton.UNKNOWN),
        Address("ABCDEFGHIJKL", Ton.ALPHANUMERIC, 0),  # 12 septets need 11 octets
        Address("Привет", Ton.ALPHANUMERIC, 0),
        Address("çava", Ton.ALPHANUMERIC, 0),
        Address("1", Ton.UNKNOWN, 16),
    ],
)
def test_bad_addresses(address: Address) -> None:
    with pytest.raises(TpduError):
        SmsSubmit(address).encode()


def test_smsc_address_forms() -> None:
    assert encode_with_smsc(SmsSubmit(PHONE), None)[0] == 0
    raw = encode_with_smsc(SmsSubmit(PHONE), Address("12345", Ton.INTERNATIONAL))
    assert raw[:5].hex().upper() == "04912143F5"
    assert decode_with_smsc(raw, "mo")[0] == Address("12345", Ton.INTERNATIONAL)


@pytest.mark.parametrize(
    ("quarters", "octet"), [(0, 0x00), (4, 0x40), (8, 0x80), (-4, 0x48), (-20, 0x0A), (79, 0x97)]
)
def test_time_zone_octet(quarters: int, octet: int) -> None:
    moment = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(minutes=15 * quarters)))
    raw = SmsDeliver(PHONE, moment).encode()
    assert raw[-8:-1] == bytes.fromhex("42102030405000")[:6] + bytes((octet,))
    decoded = decode_tpdu(raw, direction="mt")
    assert isinstance(decoded, SmsDeliver)
    assert decoded.scts == moment
    assert decoded.scts.utcoffset() == moment.utcoffset()


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2024, 1, 1),  # naive
        datetime(2024, 1, 1, tzinfo=timezone(timedelta(minutes=10))),
        datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=20))),
        datetime(1999, 12, 31, tzinfo=UTC),
    ],
)
def test_bad_time_stamps(moment: datetime) -> None:
    with pytest.raises(TpduError):
        SmsDeliver(PHONE, moment).encode()


@pytest.mark.parametrize(
    ("octet", "seconds"),
    [(0, 300), (143, 12 * 3600), (144, 12 * 3600 + 1800), (167, 24 * 3600), (168, 2 * 86400),
     (196, 30 * 86400), (197, 5 * 7 * 86400), (255, 63 * 7 * 86400)],
)  # fmt: skip
def test_relative_validity(octet: int, seconds: int) -> None:
    assert vp_relative_seconds(octet) == seconds
    assert vp_relative_from_seconds(seconds) == octet


def test_relative_validity_rounds_up() -> None:
    assert vp_relative_from_seconds(0) == 0
    assert vp_relative_from_seconds(300.5) == 1
    assert vp_relative_from_seconds(25 * 3600) == 168
    assert vp_relative_from_seconds(10**9) == 255
    with pytest.raises(ValueError, match="octet"):
        vp_relative_seconds(256)


def test_validity_period_formats() -> None:
    dest = Address("1", Ton.UNKNOWN)
    absolute = datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)
    for validity, vpf in ((None, 0), (0xAA, 2), (absolute, 3), (b"\x01" + bytes(6), 1)):
        raw = SmsSubmit(dest, validity=validity).encode()
        assert (raw[0] >> 3) & 3 == vpf
        decoded = decode_tpdu(raw, direction="mo")
        assert isinstance(decoded, SmsSubmit)
        assert decoded.validity == validity
    for bad in (256, b"\x00", True, 1.5):
        with pytest.raises(TpduError):
            SmsSubmit(dest, validity=bad).encode()  # type: ignore[arg-type]


def test_concatenated_gsm_part_uses_fill_bits() -> None:
    text = "Hello world! " * 20
    message = split(text, ref=0x21)
    part = message.parts[0]
    submit = SmsSubmit.from_part(part, message.encoding, PHONE, message_ref=9)
    raw = submit.encode()
    assert raw[0] & 0x40  # TP-UDHI
    ud_start = raw.index(part.udh) - 1
    assert raw[ud_start] == 160  # TP-UDL: 7 header septets + 153
    ud = raw[ud_start + 1 :]
    assert ud[:6] == part.udh
    assert len(ud) == 140
    # Read the septets straight from the bit stream: 48 header bits, 1 fill bit.
    bits = int.from_bytes(ud, "little")
    septets = bytes((bits >> (49 + 7 * i)) & 0x7F for i in range(153))
    assert septets == encode_gsm7(part.text)
    decoded = decode_tpdu(raw, direction="mo")
    assert decoded == submit
    assert isinstance(decoded, SmsSubmit)
    assert decoded.text == part.text


def test_from_part_ucs2_with_class() -> None:
    message = split("Привет")
    submit = SmsSubmit.from_part(
        message.parts[0], message.encoding, PHONE, status_report_request=True, message_class=0
    )
    assert submit.dcs == 0x18
    raw = submit.encode()
    assert raw[0] & 0x20  # TP-SRR
    assert decode_tpdu(raw, direction="mo") == submit
    assert submit.text == "Привет"
    assert SmsSubmit(PHONE, b"\xe9", dcs=0x04).text == "é"


@pytest.mark.parametrize(
    "tpdu",
    [
        SmsSubmit(PHONE, b"x" * 161),  # 161 septets
        SmsSubmit(PHONE, b"x" * 141, dcs=0x04),
        SmsSubmit(PHONE, b"x" * 135, dcs=0x04, udh=build_concat_udh(1, 2, 1)),
        SmsSubmit(PHONE, b"\x80", dcs=0x00),  # not a septet
        SmsSubmit(PHONE, b"x", udh=b"\x05\x00\x03"),  # UDHL disagrees with the header
        SmsSubmit(PHONE, message_ref=256),
        SmsSubmit(PHONE, pid=-1),
    ],
)
def test_encode_rejects(tpdu: SmsSubmit) -> None:
    with pytest.raises(TpduError):
        tpdu.encode()


@pytest.mark.parametrize(
    ("data", "direction"),
    [
        ("", "mt"),
        ("00", "mo"),  # MTI 0 towards the SC is a DELIVER-REPORT: unsupported
        ("01", "mt"),  # SUBMIT-REPORT
        ("03", "mt"),  # reserved
        (SUBMIT[2:], "sideways"),
        (SUBMIT[2:-2], "mo"),  # truncated user data
        (DELIVER[16:-30], "mt"),  # truncated time stamp
        ("040B911346610089F60000" + "2080629173A400" + "00", "mt"),  # BCD digit A
        ("040B911346610089F60000" + "20006291731400" + "00", "mt"),  # month 0
        ("440B911346610089F60000208062917314000100", "mt"),  # UDHI with UDHL past UD
        ("440B911346610089F6000020806291731400020103", "mt"),  # UDH element overrun
        ("440B911346610089F6000020806291731400020100", "mt"),  # UDH longer than UDL septets
        ("440B911346610089F600002080629173140000", "mt"),  # UDHI but no user data at all
        ("440B911346610089F600042080629173140105", "mt"),  # 8-bit: UDHL past TP-UDL
    ],
)
def test_decode_rejects(data: str, direction: str) -> None:
    with pytest.raises(TpduError):
        decode_tpdu(bytes.fromhex(data), direction=direction)  # type: ignore[arg-type]

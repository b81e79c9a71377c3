"""TPDU round trips for generated values, and fuzzing: bad input raises TpduError only."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from smsgate.codec import (
    GSM7_CHARS,
    Address,
    SmsDeliver,
    SmsStatusReport,
    SmsSubmit,
    Ton,
    TpduError,
    build_concat_udh,
    decode_tpdu,
    decode_with_smsc,
    encode_with_smsc,
)

DIGITS = "0123456789*#abc"
addresses = st.one_of(
    st.builds(
        Address,
        st.text(alphabet=DIGITS, max_size=20),
        st.sampled_from([t for t in Ton if t is not Ton.ALPHANUMERIC]),
        st.integers(0, 15),
    ),
    st.builds(
        Address,
        st.text(alphabet=sorted(GSM7_CHARS - set("€[]{}\\^~|\f")), min_size=1, max_size=11),
        st.just(Ton.ALPHANUMERIC),
        st.integers(0, 15),
    ),
)
zones = st.integers(-79, 79).map(lambda q: timezone(timedelta(minutes=15 * q)))
stamps = st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31), timezones=zones).map(
    lambda d: d.replace(microsecond=0)
)
udhs = st.one_of(
    st.just(b""),
    st.builds(
        lambda ref, total, seq, sixteen: build_concat_udh(
            ref, total, min(seq, total), sixteen_bit=sixteen
        ),
        st.integers(0, 255),
        st.integers(1, 255),
        st.integers(1, 255),
        st.booleans(),
    ),
)


@st.composite
def user_data(draw: st.DrawFn) -> tuple[int, bytes, bytes]:
    """(dcs, udh, user_data) that fit in 140 octets."""
    dcs = draw(st.sampled_from([0x00, 0x04, 0x08, 0x10, 0x15, 0x1A, 0xF0, 0xF6, 0xC0, 0xE0]))
    udh = draw(udhs)
    if dcs in (0x00, 0x10, 0xF0, 0xC0):
        room = 160 - (len(udh) * 8 + 6) // 7
        septets = draw(st.binary(max_size=room)).translate(bytes(range(128)) * 2)
        return dcs, udh, septets
    return dcs, udh, draw(st.binary(max_size=140 - len(udh)))


validities = st.one_of(st.none(), st.integers(0, 255), stamps, st.binary(min_size=7, max_size=7))
octets = st.integers(0, 255)


@given(addresses, user_data(), octets, octets, validities, st.booleans(), st.booleans(),
       st.booleans())  # fmt: skip
def test_submit_round_trip(
    address: Address,
    ud: tuple[int, bytes, bytes],
    mr: int,
    pid: int,
    validity: int | datetime | bytes | None,
    srr: bool,
    rd: bool,
    rp: bool,
) -> None:
    dcs, udh, data = ud
    tpdu = SmsSubmit(address, data, dcs, udh, mr, pid, validity, srr, rd, rp)
    raw = tpdu.encode()
    assert decode_tpdu(raw, direction="mo") == tpdu
    assert decode_with_smsc(encode_with_smsc(tpdu, address), "mo")[1] == tpdu


@given(addresses, stamps, user_data(), octets, st.booleans(), st.booleans(), st.booleans(),
       st.booleans())  # fmt: skip
def test_deliver_round_trip(
    address: Address,
    scts: datetime,
    ud: tuple[int, bytes, bytes],
    pid: int,
    mms: bool,
    sri: bool,
    lp: bool,
    rp: bool,
) -> None:
    dcs, udh, data = ud
    tpdu = SmsDeliver(address, scts, data, dcs, udh, pid, mms, sri, lp, rp)
    decoded = decode_tpdu(tpdu.encode(), direction="mt")
    assert decoded == tpdu
    assert isinstance(decoded, SmsDeliver)
    assert decoded.scts.utcoffset() == scts.utcoffset()


@given(addresses, stamps, stamps, octets, octets, st.booleans(), st.booleans(),
       st.one_of(st.none(), octets), st.one_of(st.none(), user_data()))  # fmt: skip
def test_status_report_round_trip(
    address: Address,
    scts: datetime,
    dt: datetime,
    mr: int,
    status: int,
    mms: bool,
    srq: bool,
    pid: int | None,
    ud: tuple[int, bytes, bytes] | None,
) -> None:
    dcs, udh, data = ud if ud else (None, b"", None)
    tpdu = SmsStatusReport(mr, address, scts, dt, status, mms, False, srq, pid, dcs, udh, data)
    assert decode_tpdu(tpdu.encode(), direction="mt") == tpdu


GOLDEN = [
    bytes.fromhex("07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07"),
    bytes.fromhex("0011000B916407281553F80000AA0AE8329BFD4697D9EC37"),
    bytes.fromhex("07911326040000F0062A0B911346610089F6208062917314082080629183140800"),
    bytes.fromhex(  # part 2 of 2, GSM-7 after a UDH: fill bit, TP-UDL in septets
        "0051000B916407281553F80000AA36050003010202D86F7499CD7EA3CB6CF61B5D66B3DFE8329BFD"
        "4697D9EC37BACC66BFD16536FB8D2EB3D96F7499CD7E03"
    ),
]


def _decode_all(data: bytes) -> None:
    """Every decoder, both directions: a TpduError is fine, anything else fails the test."""
    for direction in ("mo", "mt"):
        with contextlib.suppress(TpduError):
            decode_tpdu(data, direction=direction)
        with contextlib.suppress(TpduError):
            decode_with_smsc(data, direction)


@given(st.binary(max_size=200))
def test_fuzz_random_bytes(data: bytes) -> None:
    _decode_all(data)


@given(st.sampled_from(GOLDEN), st.data())
def test_fuzz_mutated_vectors(vector: bytes, data: st.DataObject) -> None:
    mutated = bytearray(vector)
    for _ in range(data.draw(st.integers(1, 4))):
        mutated[data.draw(st.integers(0, len(mutated) - 1))] = data.draw(octets)
    cut = data.draw(st.integers(0, len(mutated)))
    _decode_all(bytes(mutated))
    _decode_all(bytes(mutated[:cut]))

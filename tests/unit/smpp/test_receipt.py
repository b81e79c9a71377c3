"""Delivery receipt text: format/parse round trip and the variants real SMSCs send."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgate.smpp import (
    MessageState,
    Receipt,
    format_receipt,
    parse_receipt,
    stat_to_message_state,
)
from smsgate.smpp.receipt import _parse_lenient

STATS = ["DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD", "ENROUTE"]
_token = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=":"),
    min_size=1,
    max_size=20,
)
_date = st.one_of(st.none(), st.from_regex(r"\A[0-9]{10}([0-9]{2})?\Z"))
_free_text = st.text(max_size=40).filter(lambda t: t == t.lstrip(" \t"))

receipts = st.builds(
    Receipt,
    id=_token,
    sub=st.from_regex(r"\A[0-9]{3}\Z"),
    dlvrd=st.from_regex(r"\A[0-9]{3}\Z"),
    submit_date=_date,
    done_date=_date,
    stat=st.sampled_from(STATS),
    err=st.from_regex(r"\A[0-9A-F]{3}\Z"),
    text=_free_text,
)


@given(receipts)
def test_format_parse_round_trip(receipt: Receipt) -> None:
    assert parse_receipt(format_receipt(receipt)) == receipt
    assert parse_receipt(format_receipt(receipt).encode("latin-1", "replace")) is not None


def test_standard_format() -> None:
    r = Receipt(
        id="12345",
        submit_date="2401011200",
        done_date="2401011201",
        stat="DELIVRD",
        text="Hello",
    )
    assert format_receipt(r) == (
        "id:12345 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201"
        " stat:DELIVRD err:000 text:Hello"
    )


VARIANTS = [
    (  # Appendix B example
        b"id:0123456789 sub:001 dlvrd:001 submit date:0610191018 done date:0610191018"
        b" stat:DELIVRD err:000 text:Hello",
        Receipt(
            id="0123456789",
            submit_date="0610191018",
            done_date="0610191018",
            stat="DELIVRD",
            text="Hello",
        ),
    ),
    (  # upper-case keys, 12-digit dates, hex id, Text:
        "ID:7F3A2B SUB:001 DLVRD:000 SUBMIT DATE:240101120000 DONE DATE:240101120105"
        " STAT:UNDELIV ERR:0A1 Text:Hi there",
        Receipt(
            id="7F3A2B",
            dlvrd="000",
            submit_date="240101120000",
            done_date="240101120105",
            stat="UNDELIV",
            err="0A1",
            text="Hi there",
        ),
    ),
    (  # lower-case stat, missing sub/dlvrd/dates/text, extra spaces
        "id: abc-1   stat: delivrd  err: 0",
        Receipt(id="abc-1", stat="DELIVRD", err="0"),
    ),
    (  # submit_date with underscores and extra vendor fields in between
        "id:55 sub:001 dlvrd:001 submit_date:2401011200 done_date:2401011201 imsi:262011234567890"
        " stat:EXPIRED err:000 mcc:262 text:",
        Receipt(id="55", submit_date="2401011200", done_date="2401011201", stat="EXPIRED"),
    ),
    (  # text containing key-like words stays text
        "id:1 stat:DELIVRD text:your id:42 stat: fine",
        Receipt(id="1", stat="DELIVRD", text="your id:42 stat: fine"),
    ),
    (  # fields in an unusual order
        "stat:REJECTD err:001 id:X9",
        Receipt(id="X9", stat="REJECTD", err="001"),
    ),
    (  # a key with no value before the next key
        "id:9 submit date: done date:2401011201 stat:ACCEPTD",
        Receipt(id="9", done_date="2401011201", stat="ACCEPTD"),
    ),
]


@pytest.mark.parametrize(("text", "expected"), VARIANTS)
def test_real_world_variants(text: str | bytes, expected: Receipt) -> None:
    assert parse_receipt(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "hello world", "id:123 sub:001", "stat:DELIVRD", "valid:1 stat:DELIVRD", "id:"],
)
def test_not_a_receipt(text: str) -> None:
    assert parse_receipt(text) is None


@pytest.mark.parametrize(
    ("stat", "state"),
    [
        ("DELIVRD", MessageState.DELIVERED),
        ("delivered", MessageState.DELIVERED),
        ("EXPIRED", MessageState.EXPIRED),
        ("DELETED", MessageState.DELETED),
        ("UNDELIV", MessageState.UNDELIVERABLE),
        ("ACCEPTD", MessageState.ACCEPTED),
        ("UNKNOWN", MessageState.UNKNOWN),
        ("REJECTD", MessageState.REJECTED),
        (" enroute ", MessageState.ENROUTE),
        ("WHATEVER", MessageState.UNKNOWN),
    ],
)
def test_stat_to_message_state(stat: str, state: MessageState) -> None:
    assert stat_to_message_state(stat) is state


@given(receipts)
def test_standard_and_lenient_paths_agree(receipt: Receipt) -> None:
    text = format_receipt(receipt)
    assert _parse_lenient(text) == parse_receipt(text)
    assert _parse_lenient(text.replace("submit date", "SUBMIT_DATE")) == receipt

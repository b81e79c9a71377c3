"""SMSC message ids: the forms a receipt id may match, whatever the SMSC's habits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgate.domain.smsc_ids import normalize_message_id


@pytest.mark.parametrize(
    ("raw", "forms"),
    [
        ("12345", ("12345", "3039", "74565")),
        ("0A1B", ("0a1b", "a1b", "2587")),
        ("00123", ("00123", "123", "7b", "291")),
        ("0x1F", ("1f", "31")),
        ("abc-1", ("abc-1",)),
        ("", ("",)),
        ("0", ("0",)),
        ("9" * 70, ("9" * 70,)),  # longer than any message_id: kept literal
    ],
)
def test_normalize_message_id(raw: str, forms: tuple[str, ...]) -> None:
    assert normalize_message_id(raw) == forms


@given(st.integers(0, 2**64))
def test_hex_and_decimal_ids_of_one_message_meet(value: int) -> None:
    """An SMSC answering submit_sm_resp in hex and receipting in decimal (or the reverse)."""
    hex_forms = set(normalize_message_id(format(value, "X")))
    dec_forms = set(normalize_message_id(str(value)))
    assert hex_forms & dec_forms

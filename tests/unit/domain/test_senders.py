"""Sender IDs and their TON/NPI (DESIGN.md §5): numeric senders are kept as given unless
they carry '+'."""

from __future__ import annotations

import pytest

from smsgate.domain.errors import InvalidSender
from smsgate.domain.senders import (
    NPI_ISDN,
    NPI_UNKNOWN,
    TON_ALPHANUMERIC,
    TON_INTERNATIONAL,
    TON_NETWORK_SPECIFIC,
    TON_UNKNOWN,
    Sender,
    parse_sender,
)


@pytest.mark.parametrize(
    ("raw", "sender"),
    [
        ("ACME", Sender("ACME", TON_ALPHANUMERIC, NPI_UNKNOWN, "ACME")),
        ("12345", Sender("12345", TON_NETWORK_SPECIFIC, NPI_UNKNOWN, "12345")),
        ("123", Sender("123", TON_NETWORK_SPECIFIC, NPI_UNKNOWN, "123")),
        ("12345678", Sender("12345678", TON_NETWORK_SPECIFIC, NPI_UNKNOWN, "12345678")),
        ("+359888123456", Sender("359888123456", TON_INTERNATIONAL, NPI_ISDN, "+359888123456")),
        # Digits without '+' are not made international: kept as written, TON unknown.
        ("123456789", Sender("123456789", TON_UNKNOWN, NPI_ISDN, "123456789")),
        ("0888123456", Sender("0888123456", TON_UNKNOWN, NPI_ISDN, "0888123456")),
        ("1234567890123456", Sender("1234567890123456", TON_UNKNOWN, NPI_ISDN, "1234567890123456")),
    ],
)
def test_senders(raw: str, sender: Sender) -> None:
    assert parse_sender(raw) == sender


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "12",  # a short code has 3 digits at least
        "12345678901234567",  # 17 digits
        "+1234567890123456",  # international: 15 digits at most
        "+123456",
        "ACME-SENDER-X",  # 13 characters
        "١٢٣٤٥",  # Arabic-Indic digits are neither digits nor an alphanumeric sender
        "１２３４５",  # full-width digits
        "++359888123456",
    ],
)
def test_refused_senders(raw: str) -> None:
    with pytest.raises(InvalidSender):
        parse_sender(raw)

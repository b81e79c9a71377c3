"""Sender IDs and their TON/NPI (DESIGN.md §5).

Alphanumeric 1–11 characters (TON 5, NPI 0); short codes 3–8 digits (TON 3, NPI 0 is common,
NPI 1 used by some networks; we use 0); international numbers up to 15 digits (TON 1, NPI 1).

A numeric sender is kept as given: only a leading '+' makes it international. Other digits
(9 to 16 of them) go out as written with TON 0 (unknown) and NPI 1 (ISDN), for the network
to read as it reads its own numbers; the SMPP server does the same with what an ESME sends
(TON 1 there is the '+'). Digits are ASCII digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from smsgate.domain.errors import InvalidSender

TON_UNKNOWN = 0
TON_INTERNATIONAL = 1
TON_NETWORK_SPECIFIC = 3
TON_ALPHANUMERIC = 5
NPI_UNKNOWN = 0
NPI_ISDN = 1

_GSM_ALNUM_SAFE = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .-_&+!#'()*,/:;<=>?@"
)


@dataclass(frozen=True, slots=True)
class Sender:
    address: str  # what goes into source_addr (no '+')
    ton: int
    npi: int
    display: str  # what the API shows ("+3598…", "ACME")


@lru_cache(maxsize=4096)
def parse_sender(raw: str) -> Sender:
    text = raw.strip()
    if not text:
        raise InvalidSender("the sender is empty", field="from")
    digits = text[1:] if text.startswith("+") else text
    if digits.isascii() and digits.isdigit():
        if len(digits) > 16:
            raise InvalidSender("a numeric sender has at most 16 digits", field="from")
        if not text.startswith("+") and len(digits) > 8:
            return Sender(digits, TON_UNKNOWN, NPI_ISDN, digits)
        if text.startswith("+"):
            if len(digits) > 15:
                raise InvalidSender("an international number has at most 15 digits", field="from")
            if len(digits) < 7:
                raise InvalidSender("an international number has at least 7 digits", field="from")
            return Sender(digits, TON_INTERNATIONAL, NPI_ISDN, "+" + digits)
        if len(digits) < 3:
            raise InvalidSender("a short code has 3 to 8 digits", field="from")
        return Sender(digits, TON_NETWORK_SPECIFIC, NPI_UNKNOWN, digits)
    if len(text) > 11:
        raise InvalidSender("an alphanumeric sender has at most 11 characters", field="from")
    bad = sorted({c for c in text if c not in _GSM_ALNUM_SAFE})
    if bad:
        raise InvalidSender("an alphanumeric sender may not contain " + "".join(bad), field="from")
    if not any(c.isalpha() for c in text):
        raise InvalidSender("an alphanumeric sender needs a letter", field="from")
    return Sender(text, TON_ALPHANUMERIC, NPI_UNKNOWN, text)

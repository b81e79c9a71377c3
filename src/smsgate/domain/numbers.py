"""Phone numbers to E.164 (DESIGN.md §5), behind our own interface with a cache.

`phonenumbers` validation runs at 1,000–3,000 numbers/s across regions (research/libs.md §3);
the same numbers recur, so results are cached. New international numbers ('+' or '00' and
digits, or digits without a default country) take a fast path over precompiled numbering
plans (`numbering_plans`) that gives the same results; everything else goes to `phonenumbers`.

Only plain numbers are read (DESIGN.md §5): ASCII digits, one leading '+', and the spaces,
dashes, dots, slashes and parentheses people write between digits. `phonenumbers` also
reads `tel:` URIs, extensions (which it drops), letters (vanity numbers) and other scripts'
digits; those are refused here with a reason, on every channel (REST and SMPP alike).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat
from phonenumbers.phonenumberutil import region_code_for_number

from smsgate.domain.errors import InvalidNumber
from smsgate.domain.numbering_plans import (
    NOT_A_NUMBER,
    NOT_POSSIBLE,
    NOT_VALID,
    parse_international,
)


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    e164: str  # "+359888123456"
    country: str  # ISO region, "BG"; "001" style non-geographic codes stay as given

    @property
    def digits(self) -> str:
        return self.e164[1:]


def normalize(raw: str, default_country: str | None = None) -> PhoneNumber:
    """Parse `raw` (international, or national with the account's default country)."""
    result = _normalize_cached(raw.strip(), (default_country or "").upper() or None)
    if isinstance(result, str):
        raise InvalidNumber(result)
    return result


@lru_cache(maxsize=65536)
def _normalize_cached(raw: str, default_country: str | None) -> PhoneNumber | str:
    if not raw:
        return "the number is empty"
    if len(raw) > 32:
        return "the number is too long"
    shape = _not_plain(raw)
    if shape is not None:
        return shape
    text = raw
    if text.startswith("00"):
        text = "+" + text[2:]
    elif text[0].isdigit() and default_country is None:
        # Digits without '+' and no default country: read them as international.
        text = "+" + text
    digits = text[1:]
    # After a '+', parse ignores the default country, except "001" (non-geographic), which
    # skips the national prefix rules: phonenumbers decides that one.
    if text[0] == "+" and default_country != "001" and _ascii_digits(digits):
        fast = parse_international(digits)
        if fast is not None:
            if isinstance(fast, str):
                return fast
            e164, country = fast
            return PhoneNumber(e164=e164, country=country)
    return _normalize_slow(text, default_country)


_SEPARATORS = frozenset(" -./()")
_X_EXTENSION = re.compile(r"\d\s*x\s*\d")  # "+1 201 555 0123 x 12"
_ALLOWED = frozenset("0123456789") | _SEPARATORS


def _not_plain(raw: str) -> str | None:
    """Why `raw` is not a plain number, or None when it is one."""
    body = raw[1:] if raw.startswith("+") else raw
    if body.isascii() and body.isdigit():
        return None  # the usual shape, decided at once
    lower = raw.lower()
    if lower.startswith("tel:"):
        return "write the number without 'tel:'"
    if any(c in raw for c in ";#,") or "ext" in lower or _X_EXTENSION.search(lower):
        return "a number may not have an extension"
    if "+" in body:
        return "'+' may only come once, at the start"
    if any(c.isdigit() and not c.isascii() for c in body):
        return "a number has ASCII digits 0-9 only"
    if any(c.isalpha() for c in body):
        return "a number may not have letters"
    if any(c not in _ALLOWED for c in body):
        return "a number has digits, spaces, '-', '.', '/' and parentheses only"
    if not any(c.isdigit() for c in body):
        return NOT_A_NUMBER
    return None


def _ascii_digits(text: str) -> bool:
    """What `parse_international` takes (fewer than 3 digits are not viable for parse)."""
    return len(text) >= 3 and text.isascii() and text.isdigit()


def _normalize_slow(text: str, default_country: str | None) -> PhoneNumber | str:
    """The reference path, all `phonenumbers`: any input shape, any default country."""
    try:
        parsed = phonenumbers.parse(text, default_country)
    except NumberParseException:
        return NOT_A_NUMBER
    if not phonenumbers.is_possible_number(parsed):
        return NOT_POSSIBLE
    if not phonenumbers.is_valid_number(parsed):
        return NOT_VALID
    e164 = phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
    return PhoneNumber(e164=e164, country=region_code_for_number(parsed) or "ZZ")


def mask(number: str) -> str:
    """For logs: keep the country code hint and the last 3 digits only."""
    if len(number) <= 5:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 6) + number[-3:]

"""Phone numbers to E.164 (DESIGN.md §5), behind our own interface with a cache.

`phonenumbers` validation runs at 1,000–3,000 numbers/s across regions (research/libs.md §3);
the same numbers recur, so results are cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat
from phonenumbers.phonenumberutil import region_code_for_number

from smsgate.domain.errors import InvalidNumber


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
    text = raw
    if text.startswith("00"):
        text = "+" + text[2:]
    elif text[0].isdigit() and default_country is None:
        # Digits without '+' and no default country: read them as international.
        text = "+" + text
    try:
        parsed = phonenumbers.parse(text, default_country)
    except NumberParseException:
        return "not a phone number"
    if not phonenumbers.is_possible_number(parsed):
        return "not a possible phone number"
    if not phonenumbers.is_valid_number(parsed):
        return "not a valid phone number"
    e164 = phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
    return PhoneNumber(e164=e164, country=region_code_for_number(parsed) or "ZZ")


def mask(number: str) -> str:
    """For logs: keep the country code hint and the last 3 digits only."""
    if len(number) <= 5:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 6) + number[-3:]

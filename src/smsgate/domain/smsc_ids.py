"""SMSC message ids: the forms under which a receipt's id may match the id the SMSC returned
when it took the message (DESIGN.md §2: "Receipt ids are matched whatever the SMSC's
hex/decimal/case habits"). For every connector: many SMSCs answer a submit with a hex id and
write the receipt id in decimal, or the reverse, in any case, with or without leading zeros.
"""

from __future__ import annotations

import string

__all__ = ["normalize_message_id"]

_HEX = frozenset(string.hexdigits)
_MAX_ID_DIGITS = 64  # SMPP message_id is at most 64 octets (§5.2.23); longer: literal


def normalize_message_id(s: str) -> tuple[str, ...]:
    """Candidate canonical forms of an SMSC message id, most literal first.

    The lower-cased id, without leading zeros, and if it is hexadecimal its decimal value,
    if it is decimal its hexadecimal value. Two ids denote the same message when their
    candidate sets intersect under the SMSC's habit; a connector that auto-detects the
    habit compares `normalize_message_id(receipt_id)` with the forms of the id it was given.
    """
    raw = s.strip().lower()
    if raw.startswith("0x") and len(raw) > 2:
        raw = raw[2:]
    out = [raw]
    if raw and len(raw) <= _MAX_ID_DIGITS:
        if raw.isdigit() and raw.isascii():
            value = int(raw)
            out += [str(value), format(value, "x")]
        if set(raw) <= _HEX:
            value = int(raw, 16)
            out += [raw.lstrip("0") or "0", str(value)]
    return tuple(dict.fromkeys(out))

"""Identifiers: time-sortable (48-bit milliseconds + 80 random bits, Crockford base32), so
the newest-first listing and cursor paging follow creation order."""

from __future__ import annotations

import base64
import random
import secrets

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


# base64's alphabet mapped onto Crockford's: the encoding runs in C.
_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET.encode())


def _b32(value: int, length: int) -> str:
    """`value` as `length` Crockford base32 digits (length ≤ 32)."""
    encoded = base64.b32encode(value.to_bytes(20, "big")).translate(_CROCKFORD)
    return encoded[32 - length :].decode()


# Ids need to be unique, not secret: a PRNG seeded from the OS is enough (os.urandom costs
# ~100 µs a call on some VMs). Secrets (API keys, signing secrets) use `secrets`.
_random = random.Random(secrets.randbits(128))
_last = [0, 0]  # (milliseconds, random part) of the previous id of this process


def new_id(prefix: str, now: float) -> str:
    """Monotonic within a process (ULID style): ids made in the same millisecond, or when the
    clock steps back, continue from the previous one, so queue order is creation order."""
    millis = int(now * 1000) & ((1 << 48) - 1)
    if millis <= _last[0]:
        millis, rand = _last[0], (_last[1] + 1) & ((1 << 80) - 1)
    else:
        rand = _random.getrandbits(79)  # room to count up
    _last[0], _last[1] = millis, rand
    return f"{prefix}_{_b32((millis << 80) | rand, 26)}"


def new_secret(prefix: str, nbytes: int = 24) -> str:
    return f"{prefix}_{secrets.token_urlsafe(nbytes)}"

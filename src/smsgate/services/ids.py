"""Identifiers: time-sortable (48-bit milliseconds + 80 random bits, Crockford base32), so
the newest-first listing and cursor paging follow creation order."""

from __future__ import annotations

import random
import secrets

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _b32(value: int, length: int) -> str:
    out = []
    for _ in range(length):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))


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
    return f"{prefix}_{_b32(millis, 10)}{_b32(rand, 16)}"


def new_secret(prefix: str, nbytes: int = 24) -> str:
    return f"{prefix}_{secrets.token_urlsafe(nbytes)}"

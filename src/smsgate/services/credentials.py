"""SMPP passwords: up to 8 characters (SMPP 3.4 §4.1), so a slow salted hash (scrypt).

Stored as `scrypt$<salt hex>$<digest hex>`; checked in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import os

__all__ = ["check_password", "hash_password"]


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        _scheme, salt, digest = stored.split("$")
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1)
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)

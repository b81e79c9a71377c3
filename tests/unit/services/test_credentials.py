"""SMPP passwords: salted scrypt hashes, checked in constant time."""

from __future__ import annotations

from smsgate.services.credentials import check_password, hash_password


def test_passwords_are_salted_and_checked() -> None:
    one, two = hash_password("secret1"), hash_password("secret1")
    assert one != two
    assert "secret1" not in one
    assert check_password("secret1", one)
    assert not check_password("secret2", one)
    assert not check_password("secret1", "garbage")

"""Accounts and API keys: creation, look-ups, authentication, revocation."""

from __future__ import annotations

import hashlib

from sqlalchemy import select, update

from smsgate.adapters.store import schema
from smsgate.adapters.store.store import AUTH_CACHE_S, Store
from smsgate.services.records import Account

from .factories import T0


async def test_create_get_by_name_and_list(store: Store) -> None:
    first = await store.create_account(name="acme", default_country="DE", max_parts=5, now=T0)
    second = await store.create_account(name="admin", role="admin", help_text="hi", now=T0 + 1)
    assert await store.get_account(first.id) == first
    assert await store.account_by_name("admin") == second
    assert second.is_admin
    assert not first.is_admin
    assert await store.get_account("acc_missing") is None
    assert await store.account_by_name("nobody") is None
    assert await store.list_accounts() == [first, second]
    assert first.signing_secret != second.signing_secret


async def test_api_key_secret_authenticates_and_only_its_hash_is_stored(
    store: Store, account: Account
) -> None:
    key, secret = await store.create_api_key(account.id, name="ci", now=T0)
    assert secret.startswith(key.prefix)
    assert await store.authenticate(secret, now=T0) == (account, key)

    async with store.engine.connect() as conn:
        stored = (await conn.execute(select(schema.api_keys))).mappings().one()
    assert secret not in stored.values()
    assert stored["key_hash"] == hashlib.sha256(secret.encode()).hexdigest()

    listed = await store.list_api_keys(account.id)
    assert listed == [key]
    assert not hasattr(listed[0], "key_hash")
    assert stored["key_hash"] not in (getattr(listed[0], f) for f in listed[0].__slots__)


async def test_wrong_secret_is_refused(store: Store, account: Account) -> None:
    _, secret = await store.create_api_key(account.id, name="ci", now=T0)
    assert await store.authenticate(secret + "x", now=T0) is None
    assert await store.authenticate("", now=T0) is None


async def test_revoke_takes_effect_at_once_despite_the_auth_cache(
    store: Store, account: Account, other_account: Account
) -> None:
    key, secret = await store.create_api_key(account.id, name="ci", now=T0)
    assert await store.authenticate(secret, now=T0) is not None  # now cached
    # Another account cannot revoke it.
    assert await store.revoke_api_key(other_account.id, key.id, now=T0 + 1) is False
    assert await store.authenticate(secret, now=T0 + 1) is not None

    assert await store.revoke_api_key(account.id, key.id, now=T0 + 1) is True
    assert await store.authenticate(secret, now=T0 + 1) is None  # inside the cache window
    assert await store.revoke_api_key(account.id, key.id, now=T0 + 2) is False  # already
    [listed] = await store.list_api_keys(account.id)
    assert listed.revoked_at == T0 + 1


async def test_auth_cache_expires(store: Store, account: Account) -> None:
    _, secret = await store.create_api_key(account.id, name="ci", now=T0)
    assert await store.authenticate(secret, now=T0) is not None
    # Disable the account behind the store's back: cached for AUTH_CACHE_S, then refused.
    async with store.engine.begin() as conn:
        await conn.execute(update(schema.accounts).values(disabled=True))
    assert await store.authenticate(secret, now=T0 + AUTH_CACHE_S - 1) is not None
    assert await store.authenticate(secret, now=T0 + AUTH_CACHE_S + 1) is None


async def test_keys_are_listed_per_account(
    store: Store, account: Account, other_account: Account
) -> None:
    mine, _ = await store.create_api_key(account.id, name="a", now=T0)
    theirs, _ = await store.create_api_key(other_account.id, name="b", now=T0)
    assert await store.list_api_keys(account.id) == [mine]
    assert await store.list_api_keys(other_account.id) == [theirs]


async def test_rotating_the_signing_secret_takes_effect_at_once_despite_the_cache(
    store: Store, account: Account
) -> None:
    assert await store.get_account(account.id) == account  # cached now
    secret = await store.rotate_signing_secret(account.id)
    assert secret is not None
    assert secret.startswith("whsec_")
    assert secret != account.signing_secret
    rotated = await store.get_account(account.id)
    assert rotated is not None
    assert rotated.signing_secret == secret
    assert await store.rotate_signing_secret("acc_missing") is None

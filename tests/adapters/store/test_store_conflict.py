"""A unique key already taken leaves the store as the services' StoreConflict
(services/errors.py), so a service can tell it from other failures without knowing the
adapter's exception types."""

from __future__ import annotations

import pytest

from smsgate.adapters.store.store import Store
from smsgate.services.errors import StoreConflict
from smsgate.services.records import Account

from .factories import T0, new_message


async def test_a_taken_unique_key_is_a_store_conflict(store: Store, account: Account) -> None:
    await store.accept([new_message(account.id, idempotency=("k1", "h1"))])
    again = new_message(account.id, idempotency=("k1", "h2"), created_at=T0 + 1)
    with pytest.raises(StoreConflict):
        await store.accept([again])

"""Store fixtures: a migrated, started Store on each database, and an account to own rows."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from smsgate.adapters.store.store import Store
from smsgate.services.records import Account

from .factories import T0, open_store


@pytest_asyncio.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    async with open_store(db_url) as s:
        yield s


@pytest_asyncio.fixture
async def account(store: Store) -> Account:
    return await store.create_account(name="acme", now=T0)


@pytest_asyncio.fixture
async def other_account(store: Store) -> Account:
    return await store.create_account(name="globex", now=T0 + 1)

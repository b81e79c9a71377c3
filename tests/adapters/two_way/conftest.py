"""The store fixtures of tests/adapters/store (a migrated Store on SQLite and PostgreSQL),
plus the two-way repository on it."""

from __future__ import annotations

import pytest_asyncio

from smsgate.adapters.store.store import Store
from smsgate.adapters.store.two_way import TwoWayStore
from tests.adapters.store.conftest import account, other_account, pg_template, store

__all__ = ["account", "other_account", "pg_template", "store"]


@pytest_asyncio.fixture
async def repo(store: Store) -> TwoWayStore:
    return TwoWayStore(store)

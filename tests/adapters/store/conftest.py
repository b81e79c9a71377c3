"""Store fixtures: a migrated, started Store on each database, and accounts to own rows."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import pytest_asyncio

from smsgate.adapters.store.database import make_engine, migrate
from smsgate.adapters.store.store import Store
from smsgate.services.records import Account

from .factories import T0, open_store


async def _admin(server_url: str, sql: str) -> None:
    conn = await asyncpg.connect(server_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _migrated_template(server_url: str, name: str) -> None:
    await _admin(server_url, f'CREATE DATABASE "{name}"')
    engine = make_engine(urlunsplit(urlsplit(server_url)._replace(path="/" + name)))
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    """A migrated PostgreSQL database made once per session; each test's database is a copy,
    so the `store` fixture's own migrate is a quick no-op there (tests/conftest.py)."""
    server_url = os.environ.get("SMSGATE_TEST_PG_URL", "").replace("postgres://", "postgresql://")
    if not server_url:
        yield None  # db_url skips (or fails) the PostgreSQL variants
        return
    name = f"smsgate_tpl_{secrets.token_hex(6)}"
    asyncio.run(_migrated_template(server_url, name))
    try:
        yield name
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


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

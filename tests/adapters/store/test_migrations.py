"""Alembic migrations against a real database: the schema they build is the one the code uses."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from smsgate.adapters.store import schema
from smsgate.adapters.store.database import (
    current_revision,
    latest_revision,
    make_engine,
    migrate,
)


@pytest.fixture
def pg_template() -> None:
    """These tests migrate for themselves: their PostgreSQL databases start empty."""
    return None


async def test_fresh_database_has_no_revision(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert await current_revision(engine) is None
    finally:
        await engine.dispose()


async def test_upgrade_creates_every_table_and_matches_metadata(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        await migrate(engine)
        assert await current_revision(engine) == latest_revision()

        def _inspect(conn: Connection) -> tuple[set[str], list[object]]:
            tables = set(inspect(conn).get_table_names())
            diff = compare_metadata(MigrationContext.configure(conn), schema.metadata)
            return tables, diff

        async with engine.connect() as conn:
            tables, diff = await conn.run_sync(_inspect)
        assert set(schema.metadata.tables) <= tables
        assert tables - set(schema.metadata.tables) == {"alembic_version"}
        # Columns, indexes, keys: what the migration built is what schema.py declares.
        assert diff == []
    finally:
        await engine.dispose()


async def test_migrate_twice_is_a_no_op(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        await migrate(engine)
        async with engine.begin() as conn:
            await conn.execute(
                schema.accounts.insert(),
                {
                    "id": "acc_1",
                    "name": "kept",
                    "role": "user",
                    "default_country": "",
                    "max_parts": 10,
                    "help_text": "",
                    "signing_secret": "s",
                    "disabled": False,
                    "created_at": 1.0,
                },
            )
        await migrate(engine)
        assert await current_revision(engine) == latest_revision()
        async with engine.connect() as conn:
            names = (await conn.execute(schema.accounts.select())).mappings().all()
        assert [r["name"] for r in names] == ["kept"]
    finally:
        await engine.dispose()

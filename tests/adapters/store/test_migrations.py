"""Alembic migrations against a real database: the schema they build is the one the code uses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, MetaData, inspect, select
from sqlalchemy.engine import Connection

from smsgate.adapters.store import schema
from smsgate.adapters.store.database import (
    alembic_config,
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


def test_the_migrations_have_one_head() -> None:
    """Two heads mean two branches that `migrate` applies in either order; a merge
    revision joins them (0004_merge), and each new migration revises the one head."""
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


# ---- upgrading a database that holds rows ----


@dataclass(frozen=True, slots=True)
class Upgrade:
    """A database at `start` (its revisions, each migrated to in turn) with two rows in
    every table, upgraded to the head. `added`: the columns the upgrade adds, per table, with
    the value each old row has afterwards. Every schema change adds its case (start: the
    revisions before it) so that the data of a database written by the release before it
    is shown to survive."""

    name: str
    start: tuple[str, ...]
    added: Mapping[str, Mapping[str, object]] = field(default_factory=dict)


UPGRADES = [
    # The schema as released before the merge (0004_merge): both branch heads.
    Upgrade("previous-release", ("0002", "0004")),
    # 0004: a receipt request per part; old parts ask for none.
    Upgrade("before-0004", ("0002", "0003"), added={"parts": {"receipt_requested": 0}}),
]

Rows = dict[str, list[dict[str, object]]]


def _value(column: Column[Any], i: int) -> object:
    """A value of the column's type for row i, distinct per row (for unique keys)."""
    kind = column.type.python_type
    if kind is bool:
        return i % 2 == 0
    if kind is int:
        return 100 + i
    if kind is float:
        return 1_700_000_000.5 + i
    if kind is bytes:
        return bytes([0, 255, i])
    length = getattr(column.type, "length", None) or 200
    return f"{i}{column.name}-é€"[:length]


def _rows_for_every_table(conn: Connection) -> Rows:
    """Two rows per table: the first with every column set, the second with the nullable
    ones NULL; foreign keys point at the parent table's row of the same index."""
    meta = MetaData()
    meta.reflect(conn)
    rows: Rows = {}
    for table in meta.sorted_tables:
        if table.name == "alembic_version":
            continue
        rows[table.name] = []
        for i in range(2):
            row: dict[str, object] = {}
            for column in table.columns:
                fks = list(column.foreign_keys)
                if fks:
                    parent = fks[0].column
                    row[column.name] = rows[parent.table.name][i][parent.name]
                elif i == 1 and column.nullable and not column.primary_key:
                    row[column.name] = None
                else:
                    row[column.name] = _value(column, i)
            rows[table.name].append(row)
        conn.execute(table.insert(), rows[table.name])
    return rows


def _all_rows(conn: Connection) -> Rows:
    meta = MetaData()
    meta.reflect(conn)
    return {
        table.name: [dict(r) for r in conn.execute(select(table)).mappings()]
        for table in meta.sorted_tables
        if table.name != "alembic_version"
    }


@pytest.mark.parametrize("case", UPGRADES, ids=lambda c: c.name)
async def test_upgrade_keeps_every_row(db_url: str, case: Upgrade) -> None:
    engine = make_engine(db_url)
    try:
        for revision in case.start:
            await migrate(engine, revision)
        assert await current_revision(engine) == ",".join(sorted(case.start))
        async with engine.begin() as conn:
            written = await conn.run_sync(_rows_for_every_table)
        await migrate(engine)
        assert await current_revision(engine) == latest_revision()
        async with engine.connect() as conn:
            found = await conn.run_sync(_all_rows)
        for name, rows in written.items():
            added = case.added.get(name, {})
            expected = [{**row, **added} for row in rows]
            key = sorted(rows[0])
            assert sorted(found[name], key=lambda r: [str(r[k]) for k in key]) == sorted(
                expected, key=lambda r: [str(r[k]) for k in key]
            ), name
    finally:
        await engine.dispose()

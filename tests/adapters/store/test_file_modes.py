"""A SQLite database the gateway creates is its owner's only, whatever the umask (issue 10,
2.12): the file 0600 and the -wal/-shm that SQLite makes beside it 0600, a new directory 0700."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from .factories import T0, open_store


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("permissive_umask")
async def test_new_sqlite_database_and_its_wal_are_private(tmp_path: Path) -> None:
    db = tmp_path / "new" / "gateway.db"
    async with open_store(f"sqlite:///{db}") as store:
        await store.create_account(name="modes", role="user", default_country="", now=T0)
        wal, shm = db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")
        assert wal.exists()
        assert shm.exists()
        assert {p.name: _mode(p) for p in (db, wal, shm)} == {
            db.name: 0o600,
            wal.name: 0o600,
            shm.name: 0o600,
        }
    assert _mode(db.parent) == 0o700
    assert _mode(db) == 0o600

"""SQLite shared by several processes (roles, DESIGN.md §4): the writer waits for another
connection's write lock without blocking the event loop, then commits."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from smsgate.adapters.store import writer as writer_module

from .factories import T0, new_message, open_store


async def _until(predicate: Callable[[], bool]) -> None:
    """Poll a counter of the writer, bounded (10 s)."""
    for _ in range(10_000):
        if predicate():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the writer never retried")


async def test_writer_waits_for_another_processes_lock_off_the_loop(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/shared.db"
    async with open_store(url) as store:
        account = await store.create_account(name="acme", now=T0)
        other = sqlite3.connect(tmp_path / "shared.db", isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # another process takes the write lock
            new = new_message(account.id, due_at=T0)
            write = asyncio.ensure_future(store.accept([new]))
            await _until(lambda: store.writer.busy_retries >= 3)
            # The loop kept running meanwhile (we are here), and nothing was written.
            assert not write.done()
            assert await store.get_message(new.message.id) is None
            other.execute("COMMIT")
            await asyncio.wait_for(write, 10)
        finally:
            other.close()
        stored = await store.get_message(new.message.id)
        assert stored is not None
        assert stored.id == new.message.id


async def test_writer_gives_up_after_the_busy_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer_module, "BUSY_WAIT_S", 0.01)
    url = f"sqlite:///{tmp_path}/shared.db"
    async with open_store(url) as store:
        account = await store.create_account(name="acme", now=T0)
        other = sqlite3.connect(tmp_path / "shared.db", isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            new = new_message(account.id, due_at=T0)
            with pytest.raises(writer_module.WriteFailed) as failed:
                await store.accept([new])
            assert isinstance(failed.value.__cause__, OperationalError)
        finally:
            other.execute("ROLLBACK")
            other.close()
        # The writer still works once the lock is free.
        await store.accept([new])
        assert await store.get_message(new.message.id) is not None


def _wal_salt(path: Path) -> bytes:
    """The WAL header's salt: SQLite draws a new one each time the WAL starts over."""
    with open(f"{path}-wal", "rb") as f:
        return f.read(24)[16:24]


async def test_checkpoint_copies_the_wal_whole_so_it_starts_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_background_checkpoints(self: writer_module.Writer, every_s: float = 1.0) -> None:
        return None

    monkeypatch.setattr(writer_module.Writer, "_checkpoint_loop", no_background_checkpoints)
    path = tmp_path / "shared.db"
    async with open_store(f"sqlite:///{path}") as store:
        account = await store.create_account(name="acme", now=T0)

        async def write(n: int) -> None:
            for i in range(n):
                await store.accept([new_message(account.id, due_at=T0, created_at=T0 + i)])

        await write(20)
        salt = _wal_salt(path)
        await write(5)  # no checkpoint between: the WAL grows on
        assert _wal_salt(path) == salt
        assert await asyncio.to_thread(writer_module.checkpoint, str(path)) == 0
        await write(1)  # everything was copied: this transaction starts the WAL over
        assert _wal_salt(path) != salt

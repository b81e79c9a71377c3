"""The database: engine set-up for SQLite (WAL) and PostgreSQL, and migrations."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool, SingletonThreadPool

from smsgate.private_files import create_private, private_dir

MIGRATIONS = Path(__file__).parent / "migrations"
WAL_LIMIT_BYTES = 64 * 1024 * 1024


def async_url(url: str) -> str:
    """Pick the asyncio driver for a plain database URL."""
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url[len("sqlite:") :]
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the writer; synchronous=NORMAL in WAL mode survives a killed
    # process (kill -9) because every commit is in the WAL before COMMIT returns.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_sync_sqlite_engine(url: str) -> Engine:
    """The writer's own SQLite engine (stdlib sqlite3), used from one thread."""
    plain = url.replace("sqlite+aiosqlite:", "sqlite:", 1)
    prepare_sqlite_file(plain)
    engine = create_engine(
        plain, connect_args={"check_same_thread": False}, poolclass=SingletonThreadPool
    )
    _sqlite_events(engine)
    event.listen(engine, "connect", _writer_pragmas)
    return engine


def _writer_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The writer never checkpoints itself (that would fsync on the event loop); the writer's
    # checkpoint task does it from a thread.
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")
    # When the WAL starts over after a checkpoint, its file is cut back to this size.
    dbapi_connection.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
    # Nor does it wait for another process's write lock inside SQLite (with the event loop
    # blocked): BEGIN IMMEDIATE fails at once and the writer looks again (Writer._write_lock).
    dbapi_connection.execute("PRAGMA busy_timeout=0")


def _sqlite_events(engine: Engine) -> None:
    event.listen(engine, "connect", _sqlite_pragmas)
    # The stdlib driver's own transaction handling starts transactions lazily; SQLAlchemy
    # recommends taking it over so BEGIN is explicit (BEGIN IMMEDIATE for writers).
    event.listen(engine, "connect", _disable_pysqlite_begin)
    event.listen(engine, "begin", _sqlite_begin)


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL; None for an in-memory database."""
    if ":memory:" in url or ":///" not in url:
        return None
    path = url.split(":///", 1)[1].split("?", 1)[0]
    return Path(path) if path else None


def prepare_sqlite_file(url: str) -> None:
    """Create a missing SQLite database file (and its directory) readable by its owner only:
    0600 whatever the umask, and SQLite gives its -wal and -shm files the same mode."""
    path = sqlite_path(url)
    if path is None:
        return
    if not path.parent.exists():
        private_dir(path.parent, tighten=False)
    create_private(path)


def make_engine(url: str) -> AsyncEngine:
    full = async_url(url)
    if is_sqlite(full):
        prepare_sqlite_file(full)
        engine = create_async_engine(full, poolclass=NullPool if ":memory:" in full else None)
        _sqlite_events(engine.sync_engine)
        return engine
    return create_async_engine(full, pool_size=10, max_overflow=10, pool_pre_ping=False)


def _disable_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _sqlite_begin(conn: Connection) -> None:
    # Writers take the write lock at BEGIN (waiting up to busy_timeout); a deferred transaction
    # that later writes fails at once with "database is locked" when another writer got in
    # first. `read_only` is a one-shot flag set by read-only callers for their next BEGIN.
    # `begun`: the store's writer took the write lock itself (Writer._write_lock).
    if conn.info.pop("begun", False):
        return
    read_only = conn.info.pop("read_only", False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


async def migrate(engine: AsyncEngine, revision: str = "heads") -> None:
    """Bring the schema to `revision` (Alembic upgrade; every branch head by default)."""

    def _upgrade(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The database's schema revisions (comma-separated heads), None before any."""
    from alembic.runtime.migration import MigrationContext

    def _current(connection: Connection) -> str | None:
        heads = MigrationContext.configure(connection).get_current_heads()
        return ",".join(sorted(heads)) or None

    async with engine.connect() as conn:
        return await conn.run_sync(_current)


def latest_revision() -> str:
    """What `migrate` brings a database to: the migration scripts' heads, comma-separated."""
    from alembic.script import ScriptDirectory

    return ",".join(sorted(ScriptDirectory.from_config(alembic_config()).get_heads()))


def run_migrate(url: str) -> None:
    """Synchronous entry point for the CLI."""

    async def _run() -> None:
        engine = make_engine(url)
        try:
            await migrate(engine)
        finally:
            await engine.dispose()

    asyncio.run(_run())

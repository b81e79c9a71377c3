"""Group commit: many callers' writes in one transaction, each caller answered after it.

One commit per row tops out near 1,000 rows/s; one transaction for a batch reaches 100,000+
rows/s (research/libs.md §5). The writer gathers the write sets that arrive while the previous
transaction runs (plus a short window), executes inserts grouped by table as executemany, then
updates and deletes in arrival order (consecutive runs of the same statement as executemany),
commits once, and resolves every caller's future. If the batch fails, each write set is retried
alone, so one bad write set fails only its own caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Executable

from smsgate.services.errors import StoreConflict

log = logging.getLogger(__name__)

Row = dict[str, Any]
AfterCommit = Callable[[], None]

# SQLite: how many quick checkpoint passes try to catch up with the writer (see
# Writer._checkpoint_loop); how long the writer waits for another process's write lock, and
# how often it looks.
CHECKPOINT_PASSES = 20
BUSY_WAIT_S = 30.0
BUSY_RETRY_S = (0.001, 0.002)  # the first wait, then every later one (timers tick in ms)


@dataclass(slots=True)
class WriteSet:
    """Rows to insert and statements to run, applied atomically together."""

    inserts: list[tuple[Table, Row]] = field(default_factory=list)
    statements: list[tuple[Executable, Row]] = field(default_factory=list)
    # Run by the writer once the commit is durable (e.g. to update caches); must not raise.
    after_commit: list[AfterCommit] = field(default_factory=list)

    def insert(self, table: Table, row: Row) -> WriteSet:
        self.inserts.append((table, row))
        return self

    def run(self, statement: Executable, params: Row) -> WriteSet:
        self.statements.append((statement, params))
        return self

    def extend(self, other: WriteSet) -> WriteSet:
        self.inserts.extend(other.inserts)
        self.statements.extend(other.statements)
        self.after_commit.extend(other.after_commit)
        return self

    def __bool__(self) -> bool:
        return bool(self.inserts or self.statements)


_COMPILED: dict[tuple[int, str, tuple[str, ...]], tuple[str, Callable[[Row], Any], Row]] = {}


def _executemany(conn: Connection, stmt: Executable, rows: list[Row]) -> None:
    """executemany straight on the driver: SQLAlchemy's per-row parameter processing costs
    more than SQLite's own work on these hot, simply typed statements. The SQL is compiled
    once per statement, dialect and column set."""
    keys = tuple(rows[0])
    cache_key = (id(stmt), conn.dialect.name, keys)
    compiled = _COMPILED.get(cache_key)
    if compiled is None:
        c = stmt.compile(dialect=conn.dialect, column_keys=list(keys))  # type: ignore[attr-defined]
        order = tuple(c.positiontup or ())
        # Values fixed in the statement itself (e.g. `.values(claimed_until=None)`).
        fixed = {k: v for k, v in c.params.items() if k not in keys}
        compiled = (str(c), _getter(order), fixed)
        _COMPILED[cache_key] = compiled
    sql, getter, fixed = compiled
    if fixed:
        rows = [{**fixed, **r} for r in rows]
    try:
        params = list(map(getter, rows))
    except KeyError:
        conn.execute(stmt, rows)  # mixed column sets: let SQLAlchemy sort them out
        return
    conn.exec_driver_sql(sql, params)


def _getter(order: tuple[str, ...]) -> Callable[[Row], Any]:
    """A row's parameters in statement order, as a tuple (itemgetter: in C)."""
    if len(order) == 1:
        key = order[0]
        return lambda row: (row[key],)
    if not order:
        return lambda _row: ()
    return itemgetter(*order)


def apply(conn: Connection, sets: list[WriteSet]) -> None:
    """Execute write sets on an open transaction (no commit)."""
    by_table: dict[Table, list[Row]] = {}
    for ws in sets:
        for table, row in ws.inserts:
            by_table.setdefault(table, []).append(row)
    for table, rows in by_table.items():
        _executemany(conn, _insert(table), rows)
    run_stmt: Executable | None = None
    run_params: list[Row] = []
    for ws in sets:
        for stmt, params in ws.statements:
            if stmt is not run_stmt and run_params:
                assert run_stmt is not None
                _executemany(conn, run_stmt, run_params)
                run_params = []
            run_stmt = stmt
            run_params.append(params)
    if run_params:
        assert run_stmt is not None
        _executemany(conn, run_stmt, run_params)


_INSERTS: dict[Table, Executable] = {}


def _insert(table: Table) -> Executable:
    stmt = _INSERTS.get(table)
    if stmt is None:
        stmt = _INSERTS[table] = table.insert()
    return stmt


# A read-then-write done inside the writer's transaction (claims). Synchronous on purpose: on
# SQLite the whole transaction runs in one hop to the writer thread instead of one per statement.
Job = Callable[[Connection], Any]


@dataclass(slots=True)
class _Item:
    ws: WriteSet
    job: Job | None
    future: asyncio.Future[Any]


class Writer:
    """The one writer of a process: every write, and every read-then-write (claims), runs here.

    SQLite allows one writer at a time; several connections writing would wait on each other
    in SQLite's busy handler (sleeps of up to 100 ms). One task with one transaction at a time
    never waits, and batching makes PostgreSQL faster too.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        window_s: float = 0.002,
        max_batch: int = 2000,
        sync_engine: Engine | None = None,
    ):
        self._engine = engine
        # SQLite: a plain (sqlite3) engine driven right on the event loop. A transaction of a
        # batch takes a few milliseconds of C; in a worker thread, the sqlite3 module hands the
        # GIL back and forth for every row and waits up to the switch interval each time
        # (measured: 150 µs a row instead of 10). The WAL is checkpointed from a separate
        # thread (see `checkpoint`), so no fsync runs on the loop.
        # PostgreSQL: the asyncio engine (asyncpg), via run_sync.
        self._sync_engine = sync_engine
        self._thread = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-checkpoint")
            if sync_engine is not None
            else None
        )
        self._checkpoints: asyncio.Task[None] | None = None
        self._window_s = window_s
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.write_sets = 0
        self.busy_s = 0.0  # time spent in transactions, for the admin API and benchmarks
        self.busy_retries = 0  # BEGINs tried again: another process held the write lock
        self.locked_s = 0.0  # SQLite: time holding the write lock (other processes wait)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="store-writer")
        if self._sync_engine is not None:
            self._checkpoints = asyncio.create_task(self._checkpoint_loop(), name="checkpoints")

    async def _checkpoint_loop(self, every_s: float = 1.0) -> None:
        """Copy the WAL into the database file off the loop; PASSIVE never blocks writers.

        The WAL file starts over (and is cut back to `journal_size_limit`) only when a write
        begins after a checkpoint copied every frame. Under steady load the writer appends
        while a checkpoint copies, so one pass a second never catches up and the file grows
        without bound; quick passes one after another (each copies only what the last one
        left) do catch up between two transactions."""
        assert self._sync_engine is not None
        url = self._sync_engine.url
        loop = asyncio.get_running_loop()

        while True:
            await asyncio.sleep(every_s)
            try:
                await loop.run_in_executor(self._thread, checkpoint, str(url.database))
            except sqlite3.Error:
                log.warning("WAL checkpoint failed", exc_info=True)

    async def stop(self) -> None:
        """Finish what was queued, then stop."""
        if self._task is None:
            return
        await self.submit(WriteSet())
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        if self._checkpoints is not None:
            self._checkpoints.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checkpoints
        if self._thread is not None:
            self._thread.shutdown(wait=True)
        if self._sync_engine is not None:
            self._sync_engine.dispose()

    def _enqueue(self, ws: WriteSet, job: Job | None) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self._task is None or self._task.done():
            future.set_exception(RuntimeError("the store writer is not running"))
            return future
        self._queue.put_nowait(_Item(ws, job, future))
        return future

    def submit(self, ws: WriteSet) -> Awaitable[None]:
        """Queue a write set; the returned future resolves after its commit."""
        return self._enqueue(ws, None)

    async def write(self, ws: WriteSet) -> None:
        await self._enqueue(ws, None)

    async def run(self, job: Job) -> Any:
        """Run `job(conn)` inside the writer's next transaction; its result after the commit."""
        return await self._enqueue(WriteSet(), job)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            if self._window_s > 0 and self._queue.empty():
                await asyncio.sleep(self._window_s)
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._commit(batch)

    async def _transaction(self, work: Callable[[Connection], None]) -> None:
        if self._sync_engine is None:
            async with self._engine.begin() as aconn:
                await aconn.run_sync(work)
            return
        with self._sync_engine.connect() as conn:
            await self._write_lock(conn)
            locked = time.perf_counter()
            conn.info["begun"] = True  # the BEGIN hook (database.py) must not begin again
            try:
                with conn.begin():
                    work(conn)
            finally:
                self.locked_s += time.perf_counter() - locked

    async def _write_lock(self, conn: Connection) -> None:
        """BEGIN IMMEDIATE on the writer's SQLite connection, waiting off the event loop.

        Another process may hold the write lock (roles in separate processes, DESIGN.md §4).
        The writer's connection does not wait in SQLite's busy handler, which sleeps 1-100 ms
        at a time with the event loop blocked: BEGIN fails at once and we look again a
        moment later while the loop goes on serving."""
        raw = conn.connection.driver_connection
        assert raw is not None
        waited = 0.0
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or waited >= BUSY_WAIT_S:
                    raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
            self.busy_retries += 1
            pause = BUSY_RETRY_S[1] if waited else BUSY_RETRY_S[0]
            await asyncio.sleep(pause)
            waited += pause

    async def _commit(self, batch: list[_Item]) -> None:
        sets = [item.ws for item in batch if item.ws]
        jobs = [item for item in batch if item.job is not None]
        results: dict[int, Any] = {}

        def transaction(conn: Connection) -> None:
            apply(conn, sets)
            for item in jobs:
                assert item.job is not None
                results[id(item)] = item.job(conn)

        started = time.perf_counter()
        try:
            if sets or jobs:
                await self._transaction(transaction)
        except Exception as exc:
            if len(sets) + len(jobs) > 1:
                log.warning("a group commit of %d items failed; retrying one by one", len(batch))
                for item in batch:
                    await self._commit([item])
                return
            conflict = isinstance(exc, IntegrityError)
            if not conflict:
                log.exception("write failed")
            for item in batch:
                if not item.future.done():
                    error = (WriteConflict if conflict else WriteFailed)(
                        "the database refused the write"
                    )
                    error.__cause__ = exc
                    item.future.set_exception(error)
            return
        self.busy_s += time.perf_counter() - started
        self.batches += 1
        self.write_sets += len(sets)
        for item in batch:
            for callback in item.ws.after_commit:
                try:
                    callback()
                except Exception:  # pragma: no cover - callbacks are cache updates
                    log.exception("after-commit callback failed")
            if not item.future.done():
                item.future.set_result(results.get(id(item)))


def _busy(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY in any of its forms: another connection holds the write lock."""
    code = getattr(exc, "sqlite_errorcode", 0)
    return isinstance(code, int) and code & 0xFF == sqlite3.SQLITE_BUSY


def checkpoint(path: str) -> int:
    """Quick PASSIVE checkpoint passes until the WAL is copied whole (or CHECKPOINT_PASSES
    ran); the frames still left. Blocking: run it in a thread."""
    # timeout=0: another process's checkpoint running means there is nothing to do.
    conn = sqlite3.connect(path, timeout=0)
    try:
        left = 0
        for _ in range(CHECKPOINT_PASSES):
            _blocked, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            left = max(0, frames - copied)
            if left == 0:
                break
        return left
    finally:
        conn.close()


class WriteFailed(Exception):
    """A write set could not be committed; `conflict` when a unique key was already taken."""

    conflict = False


class WriteConflict(WriteFailed, StoreConflict):
    """A unique key was already taken: the services' StoreConflict (services/errors.py)."""

    conflict = True

"""Coalesce change lists from concurrent callers into one store call per loop turn.

The store's writer already commits many callers together; handing it one sorted change list
instead of many small ones lets each statement run once as an executemany.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from smsgate.services.records import Change

Apply = Callable[[Sequence[Change]], Awaitable[None]]


class ChangeBatcher:
    def __init__(self, apply: Apply, *, max_batch: int = 5000) -> None:
        self._apply = apply
        self._max_batch = max_batch
        self._pending: list[Change] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, changes: Sequence[Change]) -> None:
        """Returns once these changes are committed."""
        if not changes:
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._pending.extend(changes)
        self._waiters.append(future)
        if len(self._pending) >= self._max_batch:
            self._flush()
        elif not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        await future

    def _flush(self) -> None:
        self._scheduled = False
        if not self._waiters:
            return
        changes, waiters = self._pending, self._waiters
        self._pending, self._waiters = [], []
        task = asyncio.create_task(self._run(changes, waiters))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, changes: list[Change], waiters: list[asyncio.Future[None]]) -> None:
        try:
            await self._apply(changes)
        except Exception as exc:
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(exc)
            return
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def drain(self) -> None:
        self._flush()
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

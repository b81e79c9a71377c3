"""A small TTL cache with single-flight loading: when many requests miss the same key at
once, one loads it and the others wait for that result (no thundering herd on the database)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(self, *, ttl_s: float, max_size: int = 10_000) -> None:
        self._ttl_s = ttl_s
        self._max_size = max_size
        self._data: dict[K, tuple[float, V]] = {}
        self._loading: dict[K, asyncio.Future[V]] = {}
        # Bumped by invalidate(): a load that started before it must not store its result.
        self._generation = 0

    async def get(self, key: K, now: float, load: Callable[[], Awaitable[V]]) -> V:
        entry = self._data.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        pending = self._loading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        generation = self._generation
        try:
            value = await load()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters (if any) get it re-raised
            raise
        finally:
            self._loading.pop(key, None)
        if generation == self._generation:
            if len(self._data) >= self._max_size:
                self._data.clear()
            self._data[key] = (now + self._ttl_s, value)
        future.set_result(value)
        return value

    def invalidate(self, key: K | None = None) -> None:
        self._generation += 1
        self._loading.clear()  # later callers load afresh; earlier waiters keep their future
        if key is None:
            self._data.clear()
        else:
            self._data.pop(key, None)

"""Outgoing HTTP for webhooks: an aiohttp keep-alive pool behind a small port.

httpx (httpcore) spends milliseconds per request in its connection-pool bookkeeping under
many concurrent requests (research and bench/e2e.py profiles); aiohttp's pool does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import aiohttp


class PostError(Exception):
    """The request did not get an HTTP answer (refused, reset, timeout, bad URL)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Poster(Protocol):
    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST and return the HTTP status; raise PostError without an answer."""
        ...

    async def close(self) -> None: ...


class AiohttpPoster:
    def __init__(self, *, timeout_s: float, concurrency: int, user_agent: str) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency),
            timeout=aiohttp.ClientTimeout(total=timeout_s),
            headers={"User-Agent": user_agent, "Content-Type": "application/json"},
            auto_decompress=False,
        )

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        try:
            async with self._session.post(
                url, data=body, headers=dict(headers), allow_redirects=False
            ) as response:
                await response.read()
                return response.status
        except TimeoutError as exc:
            raise PostError("timeout") from exc
        except (aiohttp.ClientError, ValueError) as exc:
            raise PostError(type(exc).__name__) from exc

    async def close(self) -> None:
        await self._session.close()

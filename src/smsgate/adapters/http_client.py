"""The port for outgoing webhook POSTs (implemented by adapters/webhook_http.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


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

"""The port for outgoing webhook POSTs (implemented by adapters/webhook_http.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class PostError(Exception):
    """The request did not get an HTTP answer (refused, reset, timeout, bad URL).

    `origin_down`: the receiver itself did not answer (refused, reset, unreachable, timed
    out), as opposed to a request we could not make (a bad URL): the sender backs off from
    the whole origin."""

    def __init__(self, reason: str, *, origin_down: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.origin_down = origin_down


class Poster(Protocol):
    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST and return the HTTP status; raise PostError without an answer."""
        ...

    async def close(self) -> None: ...

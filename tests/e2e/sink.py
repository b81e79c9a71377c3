"""A webhook receiver for tests: a real HTTP server on port 0 that records what it gets."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookSink:
    """`async with WebhookSink() as sink:` then post to `sink.url + "/anything"`."""

    status: int = 200
    received: list[Received] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _server: asyncio.Server | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> WebhookSink:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(Exception):
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                _method, path, _version = line.decode().split(" ", 2)
                headers: dict[str, str] = {}
                while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = header.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                async with self._changed:
                    self.received.append(Received(path, headers, body))
                    self._changed.notify_all()
                writer.write(f"HTTP/1.1 {self.status} X\r\nContent-Length: 0\r\n\r\n".encode())
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    async def wait_for(
        self, predicate: Callable[[list[Received]], bool], timeout: float = 15.0
    ) -> list[Received]:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: predicate(self.received))
        return self.received

    def events_for(self, message_id: str) -> list[dict[str, Any]]:
        return [r.json for r in self.received if r.json["data"]["id"] == message_id]

    async def wait_status(self, message_id: str, status: str, timeout: float = 15.0) -> Received:
        def seen(items: list[Received]) -> bool:
            return any(
                r.json["data"]["id"] == message_id and r.json["data"]["status"] == status
                for r in items
            )

        await self.wait_for(seen, timeout)
        return next(
            r
            for r in self.received
            if r.json["data"]["id"] == message_id and r.json["data"]["status"] == status
        )

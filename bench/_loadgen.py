"""Lean HTTP/1.1 load generator and webhook sink for bench/e2e.py, on raw asyncio streams.

httpx costs more CPU per request than the gateway it would measure (the machine has two cores
shared by the gateway, the simulator and this process), so both sides speak just enough
HTTP/1.1 by hand: keep-alive, Content-Length bodies, no chunked encoding, no TLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

try:
    import orjson

    _loads: Callable[[bytes], Any] = orjson.loads
except ImportError:  # pragma: no cover - orjson is a gateway dependency
    _loads = json.loads

_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


class HttpError(Exception):
    """A response or request this minimal HTTP/1.1 cannot parse."""


def _content_length(head: bytes) -> int:
    """Content-Length of a header block (status or request line first); 0 when absent."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
        if name.strip().lower() == b"transfer-encoding":
            raise HttpError("chunked bodies are not supported by this load generator")
    return 0


async def read_message(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One HTTP/1.1 message: (header block without the blank line, body)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = _content_length(head)
    body = await reader.readexactly(length) if length else b""
    return head[:-4], body


def post_request(host: str, port: int, path: str, key: str, body: bytes) -> bytes:
    """The bytes of one keep-alive JSON POST with a bearer key."""
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def get_json(host: str, port: int, path: str, seconds: float = 5.0) -> tuple[int, Any]:
    """One GET on a fresh connection, bounded to `seconds`: (status, JSON body or None)."""
    async with asyncio.timeout(seconds):
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            head, body = await read_message(reader)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
    status = int(head.split(b" ", 2)[1])
    try:
        return status, _loads(body) if body else None
    except ValueError:
        return status, None


@dataclass(slots=True)
class LoadResult:
    """What the clients saw: per-request latency, status and the message id of each 202."""

    started: float = 0.0
    finished: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def run_clients(
    host: str, port: int, requests: Sequence[bytes], concurrency: int, seconds: float
) -> LoadResult:
    """Send every request once over `concurrency` keep-alive connections, as fast as the
    server answers (closed loop: each connection has one request in flight); at most
    `seconds` in all."""
    result = LoadResult()
    next_index = iter(range(len(requests)))
    perf = time.perf_counter

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for i in next_index:
                sent = perf()
                writer.write(requests[i])
                head, body = await read_message(reader)
                result.latencies.append(perf() - sent)
                status = int(head[9:12])
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if status == 202:
                    result.ids.append(_loads(body)["id"])
                elif len(result.errors) < 5:
                    result.errors.append(f"{status}: {body[:200]!r}")
                result.finished = perf()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    result.started = perf()
    async with asyncio.timeout(seconds):
        await asyncio.gather(*(client() for _ in range(concurrency)))
    return result


@dataclass(slots=True)
class Sink:
    """A webhook receiver: records when each message's first `sent` and `delivered` callbacks
    arrived, counts repeats, and wakes `done` once `expected` messages were delivered."""

    expected: int
    sent_at: dict[str, float] = field(default_factory=dict)
    delivered_at: dict[str, float] = field(default_factory=dict)
    other: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    requests: int = 0
    bad: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    async def start(self, host: str) -> None:
        self._server = await asyncio.start_server(self._serve, host, 0, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            # Connections the gateway keeps alive are dropped, not waited for
            # (Server.close_clients() is Python 3.13+).
            for writer in list(self._writers):
                writer.close()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                try:
                    _head, body = await read_message(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                writer.write(_OK)
                self._record(body, time.perf_counter())
        finally:
            self._writers.discard(writer)
            writer.close()

    def _record(self, body: bytes, now: float) -> None:
        self.requests += 1
        try:
            data = _loads(body)["data"]
            message_id, status = data["id"], data["status"]
        except (ValueError, KeyError, TypeError):
            self.bad += 1
            return
        if status == "sent":
            seen = self.sent_at
        elif status == "delivered":
            seen = self.delivered_at
        else:
            self.other[status] = self.other.get(status, 0) + 1
            return
        if message_id in seen:
            self.duplicates += 1
            return
        seen[message_id] = now
        if len(self.delivered_at) >= self.expected:
            self.done.set()

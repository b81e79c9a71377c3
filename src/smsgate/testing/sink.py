"""A webhook receiver: an HTTP/1.1 server on a loopback port chosen by the system, that
answers every request with a fixed status and records it (tests) or hands it to a callback
(benchmarks, and tests that count on their own).

Just enough HTTP for the gateway's webhook client: keep-alive, Content-Length bodies (no
chunked encoding, no TLS). Cheap per request, so that a benchmark's sink does not take the
CPU the gateway it measures needs: a request's headers are parsed only when read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

try:
    import orjson

    _loads: Callable[[bytes], Any] = orjson.loads
except ImportError:  # pragma: no cover - orjson is a gateway dependency
    _loads = json.loads

_EMPTY = "Content-Length: 0\r\n\r\n"
_REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 500: "Internal Server Error"}


@dataclass(frozen=True, slots=True)
class Received:
    """One request: its header block (request line first, no blank line) and its body."""

    head: bytes
    body: bytes

    @property
    def method(self) -> str:
        return self.head.split(b" ", 1)[0].decode("latin-1")

    @property
    def path(self) -> str:
        return self.head.split(b"\r\n", 1)[0].split(b" ", 2)[1].decode("latin-1")

    @property
    def headers(self) -> dict[str, str]:
        """Header names in lower case."""
        out: dict[str, str] = {}
        for line in self.head.split(b"\r\n")[1:]:
            name, _, value = line.decode("latin-1").partition(":")
            out[name.strip().lower()] = value.strip()
        return out

    @property
    def json(self) -> Any:
        return _loads(self.body)


def content_length(head: bytes) -> int:
    """Content-Length of a header block; 0 when absent. Chunked bodies are refused."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            return int(value.strip())
        if name == b"transfer-encoding":
            raise ValueError("chunked bodies are not supported")
    return 0


async def read_message(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One HTTP/1.1 message: (header block without the blank line, body)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = content_length(head)
    body = await reader.readexactly(length) if length else b""
    return head[:-4], body


@dataclass(eq=False)
class WebhookSink:
    """`async with WebhookSink() as sink:`, then let the gateway post to `sink.url + "/..."`.

    Every request is kept in `received` (unless `keep` is false) and given to `on_request`;
    `status` is the answer (a test may change it between requests). Waiting is on events,
    never on time: `wait_for`, `wait_status`.
    """

    status: int = 200
    delay_s: float = 0.0  # a slow receiver: each answer this long after its request
    on_request: Callable[[Received], None] | None = None
    keep: bool = True
    host: str = "127.0.0.1"
    backlog: int = 512
    received: list[Received] = field(default_factory=list)
    requests: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self, port: int = 0) -> None:
        """Listen on `port` (0: one the system picks; a given one may be reused at once, for
        a receiver that comes back up where the gateway was calling it)."""
        self._server = await asyncio.start_server(
            self._serve, self.host, port, backlog=self.backlog, reuse_address=bool(port)
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening; connections the gateway keeps alive are dropped, not waited for
        (Server.close_clients() is Python 3.13+)."""
        if self._server is None:
            return
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> WebhookSink:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                try:
                    head, body = await read_message(reader)
                except (asyncio.IncompleteReadError, ConnectionError, ValueError):
                    return
                if self.delay_s:
                    await asyncio.sleep(self.delay_s)
                self._record(Received(head, body))
                reason = _REASONS.get(self.status, "X")
                writer.write(f"HTTP/1.1 {self.status} {reason}\r\n{_EMPTY}".encode())
        finally:
            self._writers.discard(writer)
            writer.close()

    def _record(self, request: Received) -> None:
        self.requests += 1
        if self.keep:
            self.received.append(request)
        if self.on_request is not None:
            self.on_request(request)
        self.changed.set()

    # `timeout` as a parameter (ruff's ASYNC109): a bound every test wants, named as tests say.
    async def wait_for(
        self,
        predicate: Callable[[list[Received]], bool],
        timeout: float = 15.0,  # noqa: ASYNC109
    ) -> list[Received]:
        """Until `predicate(received)` holds (checked after each request), at most `timeout`."""
        async with asyncio.timeout(timeout):
            while not predicate(self.received):
                self.changed.clear()
                await self.changed.wait()
        return self.received

    def events_for(self, message_id: str) -> list[dict[str, Any]]:
        """The bodies of the events about one message, in the order they came."""
        return [r.json for r in self.received if r.json["data"]["id"] == message_id]

    async def wait_status(
        self,
        message_id: str,
        status: str,
        timeout: float = 15.0,  # noqa: ASYNC109
    ) -> Received:
        """The first event that says the message reached `status` (waiting for it)."""

        def match(r: Received) -> bool:
            data = r.json["data"]
            return bool(data["id"] == message_id and data["status"] == status)

        await self.wait_for(lambda items: any(match(r) for r in items), timeout)
        return next(r for r in self.received if match(r))

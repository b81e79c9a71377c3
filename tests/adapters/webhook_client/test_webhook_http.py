"""The lean webhook client against real servers on port 0: body framings, keep-alive reuse,
a server that closed an idle connection, timeouts and refusals."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import pytest

from smsgate.adapters.http_client import PostError
from smsgate.adapters.url_guard import LOOPBACK_NETWORKS, UrlGuard
from smsgate.adapters.webhook_http import LeanPoster

Answer = Callable[[int], bytes]  # request number → raw response bytes (b"" = hang up)
# The servers here listen on loopback, which webhook URLs may reach only when allowed.
LOOPBACK = UrlGuard(allowed_networks=LOOPBACK_NETWORKS)


class Server:
    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[bytes] = []
        self.connections = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Server:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(Exception):
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(
                    next(
                        line.split(b":")[1]
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    )
                )
                body = await reader.readexactly(length)
                self.requests.append(head + body)
                reply = self.answer(len(self.requests))
                if reply == b"hang":
                    await asyncio.sleep(3600)
                if not reply:
                    break
                writer.write(reply)
                await writer.drain()
                if b"Connection: close" in reply or (
                    b"Content-Length" not in reply and b"chunked" not in reply
                ):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def poster() -> AsyncIterator[LeanPoster]:
    p = LeanPoster(timeout_s=2.0, concurrency=4, user_agent="test", guard=LOOPBACK)
    yield p
    await p.close()


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def test_posts_and_reuses_the_connection(poster: LeanPoster) -> None:
    async with Server(lambda n: OK) as server:
        url = f"http://127.0.0.1:{server.port}/hook?x=1"
        for _ in range(3):
            assert await poster.post(url, b'{"a":1}', {"Smsgate-Signature": "t=1,v1=ab"}) == 200
        assert server.connections == 1
        first = server.requests[0]
        assert first.startswith(b"POST /hook?x=1 HTTP/1.1\r\n")
        assert b"Smsgate-Signature: t=1,v1=ab\r\n" in first
        assert b"Content-Type: application/json\r\n" in first
        assert first.endswith(b'\r\n\r\n{"a":1}')


@pytest.mark.parametrize(
    ("response", "status"),
    [
        (b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 201),
        (b"HTTP/1.1 204 No Content\r\n\r\n", 204),
        (b"HTTP/1.1 500 Oops\r\nContent-Length: 4\r\n\r\nfail", 500),
        (b"HTTP/1.0 200 OK\r\n\r\nbody until close", 200),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 200),
    ],
)
async def test_response_framings(poster: LeanPoster, response: bytes, status: int) -> None:
    async with Server(lambda n: response) as server:
        url = f"http://127.0.0.1:{server.port}/"
        assert await poster.post(url, b"{}", {}) == status
        assert await poster.post(url, b"{}", {}) == status  # the connection state stays right


async def test_stale_keep_alive_connection_is_retried_once(poster: LeanPoster) -> None:
    answers = iter([OK, b"", OK])
    async with Server(lambda n: next(answers)) as server:
        url = f"http://127.0.0.1:{server.port}/"
        assert await poster.post(url, b"{}", {}) == 200
        # The server drops the kept connection on the next request: we retry on a new one.
        assert await poster.post(url, b"{}", {}) == 200
        assert server.connections == 2


async def test_errors_are_post_errors(poster: LeanPoster) -> None:
    async with Server(lambda n: b"hang") as server:
        slow = LeanPoster(timeout_s=0.2, concurrency=1, user_agent="t", guard=LOOPBACK)
        try:
            with pytest.raises(PostError, match="timeout"):
                await slow.post(f"http://127.0.0.1:{server.port}/", b"{}", {})
        finally:
            await slow.close()
    async with Server(lambda n: b"garbage\r\n\r\n") as server:
        with pytest.raises(PostError, match="BadStatusLine"):
            await poster.post(f"http://127.0.0.1:{server.port}/", b"{}", {})
    with pytest.raises(PostError):
        await poster.post(f"http://127.0.0.1:{server.port}/", b"{}", {})  # nobody listens
    for bad in ("ftp://x/", "http:///nohost", "http://host:notaport/"):
        with pytest.raises(PostError, match="InvalidURL"):
            await poster.post(bad, b"{}", {})

"""The gateway's HTTP connections over real sockets (server_protocol.py): HTTP/1.0
keep-alive, header and keep-alive timeouts, the per-address connection cap, and the client
address behind a trusted proxy."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest

from smsgate.bootstrap import Gateway
from smsgate.simulators.smsc import SmscSimulator, SmscSimulatorConfig
from tests.e2e.conftest import gateway_settings

WAIT = 10.0  # how long a test waits for the server before it fails (never an assertion)


@dataclass
class Http:
    gateway: Gateway
    key: str

    async def connect(self, source: str = "127.0.0.1") -> tuple[asyncio.StreamReader, Writer]:
        return await asyncio.open_connection(
            "127.0.0.1", self.gateway.http_port, local_addr=(source, 0)
        )


Writer = asyncio.StreamWriter


@contextlib.asynccontextmanager
async def running(tmp_path: Path, **overrides: object) -> AsyncIterator[Http]:
    async with contextlib.AsyncExitStack() as stack:
        sim = await stack.enter_async_context(
            SmscSimulator(SmscSimulatorConfig(system_id="gw", password="pw"))
        )
        settings = gateway_settings(tmp_path, sim.port, **overrides)
        gateway = await stack.enter_async_context(Gateway(settings))
        now = gateway.clock.now()
        account = await gateway.store.create_account(name="a", now=now)
        _, key = await gateway.store.create_api_key(account.id, name="k", now=now)
        yield Http(gateway, key)


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """One response with a Content-Length: (status, lower-cased headers, body)."""
    async with asyncio.timeout(WAIT):
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers["content-length"]))
    return status, headers, body


async def closed(reader: asyncio.StreamReader) -> bool:
    """Whether the server closes the connection (reads to its end)."""
    async with asyncio.timeout(WAIT):
        while True:
            try:
                if not await reader.read(65536):
                    return True
            except ConnectionResetError:
                return True


def send_request(key: str, version: str = "1.0", connection: str | None = "keep-alive") -> bytes:
    body = orjson.dumps({"to": "+359888123456", "from": "ACME", "text": "hi"})
    lines = [
        f"POST /api/v1/messages HTTP/{version}",
        "Host: gateway",
        f"Authorization: Bearer {key}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
    ]
    if connection is not None:
        lines.append(f"Connection: {connection}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def test_http10_keep_alive_serves_two_requests_on_one_connection(tmp_path: Path) -> None:
    async with running(tmp_path) as http:
        reader, writer = await http.connect()
        for path in ("send", "healthz"):
            if path == "send":  # what `ab -k` sends: the fast path
                writer.write(send_request(http.key))
            else:  # a framework route
                writer.write(b"GET /healthz HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
            status, headers, body = await read_response(reader)
            assert status in (200, 202), body
            assert headers["connection"].lower() == "keep-alive"
            assert "content-length" in headers
        writer.close()


@pytest.mark.parametrize("connection", [None, "close"])
async def test_http10_without_keep_alive_closes(tmp_path: Path, connection: str | None) -> None:
    async with running(tmp_path) as http:
        reader, writer = await http.connect()
        writer.write(send_request(http.key, connection=connection))
        status, headers, _body = await read_response(reader)
        assert status == 202
        assert headers["connection"] == "close"
        assert await closed(reader)
        writer.close()


async def test_half_sent_headers_are_closed_after_the_header_timeout(tmp_path: Path) -> None:
    async with running(tmp_path, http_header_timeout_s=0.2) as http:
        limits = http.gateway.http_limits
        reader, writer = await http.connect()
        writer.write(b"POST /api/v1/messages HTTP/1.1\r\nHost: gateway\r\nX-Slow:")
        assert await closed(reader)
        silent_reader, silent_writer = await http.connect()  # says nothing at all
        assert await closed(silent_reader)
        assert limits.header_timeouts == 2
        # A kept-alive connection that starts a second request and stalls is closed too.
        reader2, writer2 = await http.connect()
        writer2.write(send_request(http.key, version="1.1", connection=None))
        status, _headers, _body = await read_response(reader2)
        assert status == 202
        writer2.write(b"GET /healthz HTTP/1.1\r\n")
        assert await closed(reader2)
        assert limits.header_timeouts == 3
        for w in (writer, silent_writer, writer2):
            w.close()


async def test_idle_keep_alive_connection_is_closed(tmp_path: Path) -> None:
    async with running(tmp_path, http_keepalive_timeout_s=0.2) as http:
        reader, writer = await http.connect()
        writer.write(send_request(http.key, version="1.1", connection=None))
        status, headers, _body = await read_response(reader)
        assert status == 202
        assert "connection" not in headers  # kept alive...
        assert await closed(reader)  # ...until it has been idle for the timeout
        assert http.gateway.http_limits.header_timeouts == 0
        writer.close()


async def test_connections_per_address_are_capped(tmp_path: Path) -> None:
    async with running(tmp_path, http_max_connections_per_address=3) as http:
        held = []
        for _ in range(3):  # each one is known to the server once it has answered on it
            reader, writer = await http.connect("127.0.0.1")
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n")
            assert (await read_response(reader))[0] == 200
            held.append(writer)
        reader, writer = await http.connect("127.0.0.1")
        status, headers, body = await read_response(reader)
        assert status == 429
        assert orjson.loads(body)["error"]["code"] == "too_many_connections"
        assert headers["connection"] == "close"
        assert await closed(reader)
        # Another address is not affected.
        other_reader, other_writer = await http.connect("127.0.0.2")
        other_writer.write(send_request(http.key))
        assert (await read_response(other_reader))[0] == 202
        assert http.gateway.http_limits.refused == 1
        for w in (*held, writer, other_writer):
            w.close()


def _client(http: Http, source: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=source)
    return httpx.AsyncClient(base_url=http.gateway.http_url, transport=transport, timeout=WAIT)


async def test_forwarded_for_is_believed_from_a_trusted_proxy_only(tmp_path: Path) -> None:
    settings = {"trusted_proxies": ("127.0.0.2/32",), "http_max_connections_per_address": 1}
    async with running(tmp_path, **settings) as http:
        ctx = http.gateway.api.ctx  # type: ignore[attr-defined]
        bad = {"Authorization": "Bearer sk_guess", "X-Forwarded-For": "198.51.100.7, 203.0.113.9"}
        async with _client(http, "127.0.0.2") as proxy, _client(http, "127.0.0.1") as direct:
            assert (await proxy.get("/api/v1/account", headers=bad)).status_code == 401
            assert (await direct.get("/api/v1/account", headers=bad)).status_code == 401
        now = http.gateway.clock.now()
        # The proxy's hop (the rightmost untrusted one) is the client; a direct peer's
        # X-Forwarded-For is ignored.
        assert ctx.auth_failures.failures("203.0.113.9", now) == 1
        assert ctx.auth_failures.failures("127.0.0.1", now) == 1
        assert ctx.auth_failures.failures("127.0.0.2", now) == 0
        assert ctx.auth_failures.failures("198.51.100.7", now) == 0
        # The connection cap counts the forwarded client, not the proxy.
        first_reader, first = await http.connect("127.0.0.2")
        first.write(b"GET /healthz HTTP/1.1\r\nHost: g\r\nX-Forwarded-For: 203.0.113.20\r\n\r\n")
        assert (await read_response(first_reader))[0] == 200
        second_reader, second = await http.connect("127.0.0.2")
        second.write(b"GET /healthz HTTP/1.1\r\nHost: g\r\nX-Forwarded-For: 203.0.113.20\r\n\r\n")
        assert (await read_response(second_reader))[0] == 429
        third_reader, third = await http.connect("127.0.0.2")
        third.write(b"GET /healthz HTTP/1.1\r\nHost: g\r\nX-Forwarded-For: 203.0.113.21\r\n\r\n")
        assert (await read_response(third_reader))[0] == 200
        for w in (first, second, third):
            w.close()

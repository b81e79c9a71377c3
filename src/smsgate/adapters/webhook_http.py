"""A lean HTTP/1.1 client for webhook POSTs: keep-alive connections per origin, bodies by
Content-Length, chunked or connection close, TLS, one overall timeout per request.

Webhooks are two POSTs per message; a general client (aiohttp, httpx) spends more CPU per
request than the rest of the gateway spends per message (bench/e2e.py profiles). We only need
to send a small JSON body and read the status, so we speak just that much HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Mapping
from urllib.parse import urlsplit

from smsgate.adapters.http_client import PostError
from smsgate.adapters.url_guard import UrlGuard
from smsgate.domain.errors import UrlNotAllowed

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024  # what we read of an answer before giving up on the connection

Origin = tuple[str, str, int]  # scheme, host, port


class _Conn:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        self.writer.close()


class LeanPoster:
    """Implements the `Poster` port."""

    def __init__(
        self,
        *,
        timeout_s: float,
        concurrency: int,
        user_agent: str,
        ssl_context: ssl.SSLContext | None = None,
        guard: UrlGuard | None = None,
    ) -> None:
        self._timeout_s = timeout_s
        # Resolves and checks every address before connecting (DESIGN.md §7); by default no
        # network is allowed beyond public addresses.
        self._guard = guard or UrlGuard()
        self._max_idle = concurrency
        self._user_agent = user_agent
        self._ssl = ssl_context or ssl.create_default_context()
        self._idle: dict[Origin, list[_Conn]] = {}

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PostError("InvalidURL")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise PostError("InvalidURL") from exc
        origin: Origin = (parts.scheme, parts.hostname, port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = parts.netloc.rpartition("@")[2]
        head = [f"POST {target} HTTP/1.1", f"Host: {host}", f"User-Agent: {self._user_agent}"]
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        try:
            async with asyncio.timeout(self._timeout_s):
                return await self._exchange(origin, request)
        except TimeoutError as exc:
            raise PostError("timeout", origin_down=True) from exc

    async def _exchange(self, origin: Origin, request: bytes) -> int:
        reused = self._take(origin)
        if reused is not None:
            try:
                return await self._round_trip(origin, reused, request)
            except (ConnectionError, asyncio.IncompleteReadError, _Stale):
                pass  # the server closed an idle connection: once more on a new one
        try:
            conn = await self._connect(origin)
        except OSError as exc:
            raise PostError(type(exc).__name__, origin_down=True) from exc
        try:
            return await self._round_trip(origin, conn, request)
        except (ConnectionError, asyncio.IncompleteReadError, _Stale) as exc:
            raise PostError("ServerDisconnected", origin_down=True) from exc

    async def _connect(self, origin: Origin) -> _Conn:
        scheme, host, port = origin
        try:
            addresses = await self._guard.addresses(host, port)
        except UrlNotAllowed as exc:
            raise PostError("url_not_allowed") from exc
        failure: OSError | None = None
        for address in addresses:  # the checked addresses themselves: never the name again
            try:
                reader, writer = await asyncio.open_connection(
                    address,
                    port,
                    ssl=self._ssl if scheme == "https" else None,
                    server_hostname=host if scheme == "https" else None,
                    limit=MAX_HEADER_BYTES,
                )
            except OSError as exc:
                failure = exc
                continue
            return _Conn(reader, writer)
        raise failure or OSError("no address to connect to")

    def _take(self, origin: Origin) -> _Conn | None:
        pool = self._idle.get(origin)
        while pool:
            conn = pool.pop()
            if not conn.reader.at_eof() and not conn.writer.is_closing():
                return conn
            conn.close()
        return None

    async def _round_trip(self, origin: Origin, conn: _Conn, request: bytes) -> int:
        try:
            conn.writer.write(request)
            status, keep_alive = await self._read_response(conn.reader)
        except BaseException:
            conn.close()
            raise
        if keep_alive and len(self._idle.setdefault(origin, [])) < self._max_idle:
            self._idle[origin].append(conn)
        else:
            conn.close()
        return status

    async def _read_response(self, reader: asyncio.StreamReader) -> tuple[int, bool]:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError as exc:
            raise PostError("HeadersTooLarge") from exc
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                raise _Stale from exc
            raise
        lines = head[:-4].decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or not code.isdigit():
            raise PostError("BadStatusLine")
        status = int(code)
        fields: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        keep_alive = fields.get("connection", "").lower() != "close" and version == "HTTP/1.1"
        if status in (204, 304) or 100 <= status < 200:
            return status, keep_alive
        if "chunked" in fields.get("transfer-encoding", "").lower():
            await _skip_chunked(reader)
        elif "content-length" in fields:
            try:
                length = int(fields["content-length"])
            except ValueError as exc:
                raise PostError("BadContentLength") from exc
            if length > MAX_BODY_BYTES:
                return status, False  # not worth reading: drop the connection
            await reader.readexactly(length)
        else:
            return status, False  # the body runs to the close: do not reuse
        return status, keep_alive

    async def close(self) -> None:
        pools, self._idle = self._idle, {}
        for pool in pools.values():
            for conn in pool:
                conn.close()
                with contextlib.suppress(Exception):
                    await conn.writer.wait_closed()


class _Stale(Exception):
    """A kept-alive connection the server had closed: retry on a fresh one."""


async def _skip_chunked(reader: asyncio.StreamReader) -> None:
    total = 0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError as exc:
            raise PostError("BadChunk") from exc
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass  # trailers
            return
        total += size
        if total > MAX_BODY_BYTES:
            raise PostError("BodyTooLarge")
        await reader.readexactly(size + 2)

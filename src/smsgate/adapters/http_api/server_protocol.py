"""The HTTP/1.x connection: uvicorn's httptools protocol with the limits a public server
needs (DESIGN.md §7, STYLE.md rule 9).

- HTTP/1.0 `Connection: keep-alive` is honoured (uvicorn closes every HTTP/1.0 connection):
  the response says `Connection: keep-alive` and the connection stays open, when the
  response has a Content-Length (an HTTP/1.0 client cannot read chunked bodies). Load
  generators such as `ab -k` speak HTTP/1.0.
- A request's headers must arrive within `header_timeout_s` of the connection, or of the
  request's first byte on a kept-alive connection (slowloris); an idle kept-alive
  connection is closed after uvicorn's `timeout_keep_alive`.
- One client address holds at most `max_per_address` connections; one more is answered 429
  and closed. The address is the peer's, or for a trusted proxy the one its
  `X-Forwarded-For` names (`client_address`), and that is the `client` the application sees.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import orjson
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, ASGISendEvent, Scope
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from smsgate.adapters.http_api.client_address import TrustedProxies

_REFUSAL = {
    "error": {
        "code": "too_many_connections",
        "message": "too many connections from this address",
        "field": None,
    }
}
_REFUSAL_BODY = orjson.dumps(_REFUSAL)
_REFUSAL_HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(_REFUSAL_BODY)).encode()),
    (b"retry-after", b"1"),
    (b"connection", b"close"),
]
# Written before any request is read, to a client over the cap at connect time.
_REFUSAL_RAW = (
    b"HTTP/1.1 429 Too Many Requests\r\n"
    + b"".join(name + b": " + value + b"\r\n" for name, value in _REFUSAL_HEADERS)
    + b"\r\n"
    + _REFUSAL_BODY
)


class ConnectionLimits:
    """The limits of one HTTP server and its open connections per client address."""

    def __init__(
        self,
        *,
        header_timeout_s: float,
        max_per_address: int,
        trusted_proxies: TrustedProxies | None = None,
    ) -> None:
        self.header_timeout_s = header_timeout_s
        self.max_per_address = max_per_address
        self.trusted_proxies = trusted_proxies or TrustedProxies()
        self._open: dict[str, int] = {}
        self.refused = 0  # connections refused for their address, in all
        self.header_timeouts = 0  # connections closed for headers that did not arrive

    def acquire(self, address: str) -> bool:
        """Count a connection of `address`; False (not counted) when it is over the cap."""
        count = self._open.get(address, 0)
        if 0 < self.max_per_address <= count:
            self.refused += 1
            return False
        self._open[address] = count + 1
        return True

    def release(self, address: str) -> None:
        count = self._open.get(address, 0) - 1
        if count > 0:
            self._open[address] = count
        else:
            self._open.pop(address, None)

    def open_from(self, address: str) -> int:
        return self._open.get(address, 0)


async def _too_many_connections(
    scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
) -> None:
    await send({"type": "http.response.start", "status": 429, "headers": _REFUSAL_HEADERS})
    await send({"type": "http.response.body", "body": _REFUSAL_BODY, "more_body": False})


class GatewayHttpProtocol(HttpToolsProtocol):
    """One HTTP connection; `limits` is set by `protocol_class`."""

    limits: ClassVar[ConnectionLimits]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        self._counted: str | None = None  # the address this connection is counted for
        self._refused = False

    # ---- connection --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        peer = self.client[0] if self.client else ""
        # Behind a trusted proxy the client is known from the request's headers only.
        if not self.limits.trusted_proxies.trusts(peer) and not self._count(peer):
            self._refused = True
            transport.write(_REFUSAL_RAW)
            transport.close()
            return
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        if self._counted is not None:
            self.limits.release(self._counted)
            self._counted = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._header_timer is None and (self.cycle is None or self.cycle.response_complete):
            self._arm_header_timer()  # a new request starts on a kept-alive connection
        super().data_received(data)

    def _count(self, address: str) -> bool:
        if address == self._counted:
            return True
        if not self.limits.acquire(address):
            return False
        if self._counted is not None:
            self.limits.release(self._counted)
        self._counted = address
        return True

    # ---- header timeout ----------------------------------------------------------------

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(
            self.limits.header_timeout_s, self._header_timeout
        )

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timeout(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.limits.header_timeouts += 1
            self.transport.close()

    # ---- requests ----------------------------------------------------------------------

    def on_headers_complete(self) -> None:
        self._cancel_header_timer()
        app = self.app
        peer = self.client[0] if self.client else ""
        trusted = self.limits.trusted_proxies
        if trusted.trusts(peer):
            forwarded = [v.decode("latin-1") for n, v in self.headers if n == b"x-forwarded-for"]
            client = trusted.client(peer, forwarded)
            self.scope["client"] = (client, 0)
            if not self._count(client):
                self.app = _too_many_connections
        try:
            super().on_headers_complete()
        finally:
            self.app = app
        cycle = self.cycle
        if cycle is not None and cycle.scope is self.scope and self._http10_keep_alive():
            cycle.keep_alive = True
            _keep_alive_response(cycle)

    def _http10_keep_alive(self) -> bool:
        if self.scope.get("http_version") != "1.0" or self.parser.should_upgrade():
            return False
        for name, value in self.headers:
            if name == b"connection":
                return b"keep-alive" in [t.strip().lower() for t in value.split(b",")]
        return False


def _keep_alive_response(cycle: RequestResponseCycle) -> None:
    """Make an HTTP/1.0 response say `Connection: keep-alive`, or close the connection when
    the client could not find the end of its body without a close."""
    inner = cycle.send
    head = cycle.scope["method"] == "HEAD"

    async def send(message: ASGISendEvent) -> None:
        if message["type"] == "http.response.start" and not cycle.response_started:
            headers = list(message.get("headers", []))
            names = {name.lower() for name, _ in headers}
            delimited = b"content-length" in names or head or message["status"] in (204, 304)
            if not delimited:
                cycle.keep_alive = False
            elif cycle.keep_alive and b"connection" not in names:
                headers.append((b"connection", b"keep-alive"))
                message = {**message, "headers": headers}
        await inner(message)

    cycle.send = send  # type: ignore[method-assign]


def protocol_class(limits: ConnectionLimits) -> type[GatewayHttpProtocol]:
    """The protocol class to give uvicorn (`Config(http=...)`), bound to `limits`."""

    class BoundHttpProtocol(GatewayHttpProtocol):
        pass

    BoundHttpProtocol.limits = limits
    return BoundHttpProtocol

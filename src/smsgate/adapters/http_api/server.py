"""The HTTP listener: our own socket, served by uvicorn (with server_protocol.py's
httptools protocol), started and stopped by the supervisor."""

from __future__ import annotations

import asyncio
import socket

import uvicorn
from starlette.types import ASGIApp

from smsgate.adapters.http_api.server_protocol import ConnectionLimits, protocol_class


class HttpServer:
    """Serves `app` on host:port (0: any free port; `port` tells which once started)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str,
        port: int,
        limits: ConnectionLimits,
        keepalive_timeout_s: float,
    ) -> None:
        self._app = app
        self._host = host
        self._port = port
        self._limits = limits
        self._keepalive_timeout_s = keepalive_timeout_s
        self._server: uvicorn.Server | None = None
        self._socket: socket.socket | None = None
        self._task: asyncio.Task[None] | None = None
        self.port = 0

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        sock.listen(2048)
        sock.setblocking(False)
        self._socket = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            lifespan="off",
            log_level="warning",
            access_log=False,
            # httptools, with our connection limits and HTTP/1.0 keep-alive.
            http=protocol_class(self._limits),
            # The client address comes from trusted_proxies only (server_protocol.py).
            proxy_headers=False,
            timeout_keep_alive=self._keepalive_timeout_s,  # type: ignore[arg-type]
            timeout_graceful_shutdown=5,
        )
        server = uvicorn.Server(config)
        config.load()
        server.lifespan = config.lifespan_class(config)
        await server.startup(sockets=[sock])
        self._server = server
        self._task = asyncio.create_task(server.main_loop(), name="http")

    async def stop(self) -> None:
        """Stop accepting, let the requests in flight finish, then close."""
        server = self._server
        if server is None:
            return
        server.should_exit = True
        if self._task is not None:
            await self._task
            self._task = None
        await server.shutdown(sockets=[self._socket] if self._socket else None)
        self._server = None

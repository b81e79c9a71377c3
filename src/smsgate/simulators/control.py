"""The simulator's small HTTP control API (for tests and `smsgate simulator mo`).

    POST /mo     {"from", "to", "text", "concat", "shuffle", "duplicate", "data_coding",
                  "system_id"}  → 200 {"parts": n}; 400 bad request; 409 nobody bound
    GET  /stats  → the simulator's counters

Served by uvicorn in-process on a socket we bind ourselves, so the port is known before the
server starts and readiness needs no polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import TYPE_CHECKING, Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from smsgate.codec.errors import CodecError

if TYPE_CHECKING:
    from smsgate.simulators.smsc import SmscSimulator

__all__ = ["ControlServer", "build_control_app"]

_CONCAT = {"udh8", "udh16", "sar", None}
_CODINGS = {"auto", "gsm7", "ucs2"}


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": "bad_request", "message": message}}, status)


def _mo_arguments(body: Any) -> dict[str, Any] | str:
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    for key in ("from", "to", "text"):
        if not isinstance(body.get(key), str) or not body[key]:
            return f"'{key}' must be a non-empty string"
    if body.get("concat", "udh8") not in _CONCAT:
        return "'concat' must be udh8, udh16, sar or null"
    if body.get("data_coding", "auto") not in _CODINGS:
        return "'data_coding' must be auto, gsm7 or ucs2"
    system_id = body.get("system_id")
    if system_id is not None and not isinstance(system_id, str):
        return "'system_id' must be a string"
    return {
        "source": body["from"],
        "destination": body["to"],
        "text": body["text"],
        "concat": body.get("concat", "udh8"),
        "shuffle": bool(body.get("shuffle", False)),
        "duplicate": bool(body.get("duplicate", False)),
        "data_coding": body.get("data_coding", "auto"),
        "system_id": system_id,
    }


def build_control_app(sim: SmscSimulator) -> Starlette:
    """The Starlette app serving the control API of `sim`."""
    from smsgate.simulators.smsc import SimulatorError

    async def mo(request: Request) -> JSONResponse:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "the body is not JSON")
        arguments = _mo_arguments(body)
        if isinstance(arguments, str):
            return _error(400, arguments)
        try:
            parts = await sim.inject_mo(**arguments)
        except SimulatorError as exc:
            return JSONResponse({"error": {"code": "not_bound", "message": str(exc)}}, 409)
        except CodecError:
            return _error(400, "the text cannot be encoded as asked")
        return JSONResponse({"parts": parts})

    async def stats(_request: Request) -> JSONResponse:
        return JSONResponse(sim.stats())

    return Starlette(
        routes=[Route("/mo", mo, methods=["POST"]), Route("/stats", stats, methods=["GET"])]
    )


class ControlServer:
    """uvicorn serving `build_control_app(sim)` inside the running loop."""

    def __init__(self, sim: SmscSimulator, *, host: str, port: int) -> None:
        self._sim = sim
        self._host = host
        self._port = port
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> str:
        """Bind, start serving, and return the base URL."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        sock.listen(128)  # connections queue up until uvicorn accepts them
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            build_control_app(self._sim),
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        return f"http://{self._host}:{port}"

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 2.0)
            except TimeoutError:
                self._server.force_exit = True  # an idle keep-alive client holds it open
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task

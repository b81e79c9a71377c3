"""POST /api/v1/messages without the framework around it.

Sending is the one call that runs thousands of times a second; FastAPI's middleware, routing
and dependency machinery cost more than the work itself (bench/e2e.py profiles: about a
quarter of the gateway's CPU). This ASGI front answers that one route with the same handler
and the same error shapes, and passes every other request to the application unchanged.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smsgate.adapters.http_api import content_type
from smsgate.adapters.http_api.context import ApiContext
from smsgate.adapters.http_api.errors import response_for
from smsgate.adapters.http_api.routes_messages import handle_send

PATH = "/api/v1/messages"


class FastSend:
    def __init__(self, app: ASGIApp, *, ctx: ApiContext, max_body_bytes: int) -> None:
        self.app = app
        self.ctx = ctx
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        refused = content_type.refusal(scope)
        if refused is not None:
            await refused(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                # Let the application's body limit answer (413), with what was read replayed.
                await self.app(scope, _replay(b"".join([*chunks, chunk]), receive, more), send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        client = scope.get("client")
        try:
            response = await handle_send(
                self.ctx, Headers(scope=scope), client[0] if client else "?", b"".join(chunks)
            )
        except Exception as exc:
            response = response_for(exc)
        await response(scope, receive, send)


def _replay(body: bytes, receive: Receive, more: bool) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()

    return replay

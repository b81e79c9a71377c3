"""The FastAPI application of the REST API v1."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import Response
from starlette.types import ASGIApp

from smsgate import __version__
from smsgate.adapters.http_api import (
    docs,
    errors,
    routes_admin,
    routes_conversations,
    routes_keywords,
    routes_messages,
    routes_numbers,
    routes_optouts,
    routes_webhooks,
)
from smsgate.adapters.http_api.content_type import RequireJson
from smsgate.adapters.http_api.context import ApiContext
from smsgate.adapters.http_api.errors import JsonResponse
from smsgate.adapters.http_api.fast_path import FastSend
from smsgate.adapters.http_api.limits import BodySizeLimit, RateLimiter
from smsgate.services.two_way_manage import TwoWayManager


def create_asgi(ctx: ApiContext, *, two_way: TwoWayManager | None = None) -> ASGIApp:
    """The application with the fast front for sending."""
    return FastSend(
        create_app(ctx, two_way=two_way), ctx=ctx, max_body_bytes=ctx.settings.max_body_bytes
    )


def create_app(ctx: ApiContext, *, two_way: TwoWayManager | None = None) -> FastAPI:
    app = FastAPI(
        title="smsgate",
        version=__version__,
        description="Self-hosted SMS gateway: REST API v1. Authenticate with "
        "`Authorization: Bearer <API key>`.",
        default_response_class=JsonResponse,
        docs_url=None,  # FastAPI's pages load from a CDN; ours are local (docs.install)
        redoc_url=None,
    )
    ctx.rate_limiter = RateLimiter(ctx.settings.rate_limit_per_s)
    app.state.ctx = ctx
    errors.install(app)
    docs.install(app)
    app.include_router(routes_messages.router)
    app.include_router(routes_webhooks.router)
    app.include_router(routes_webhooks.message_router)
    app.include_router(routes_admin.router)
    if two_way is not None:
        # Two-way SMS (numbers, keywords, conversations, opt-outs): routes_numbers.manager.
        app.state.two_way = two_way
        for module in (routes_numbers, routes_keywords, routes_conversations, routes_optouts):
            app.include_router(module.router)
    app.add_middleware(BodySizeLimit, max_bytes=ctx.settings.max_body_bytes)
    app.add_middleware(RequireJson)  # outermost: a body it refuses is never read

    @app.get("/healthz", tags=["health"])
    async def healthz() -> Response:
        return JsonResponse({"status": "ok"})

    @app.get("/readyz", tags=["health"])
    async def readyz(request: Request) -> Response:
        c: ApiContext = request.app.state.ctx
        try:
            await c.store.ping()
        except Exception:
            return JsonResponse({"status": "unavailable", "database": False}, status_code=503)
        ready = c.ready()
        return JsonResponse(
            {"status": "ok" if ready else "starting", "database": True},
            status_code=200 if ready else 503,
        )

    return app

"""The FastAPI application of the REST API v1."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import Response
from starlette.types import ASGIApp

from smsgate import __version__
from smsgate.adapters.http_api import errors, routes_admin, routes_messages, routes_webhooks
from smsgate.adapters.http_api.context import ApiContext
from smsgate.adapters.http_api.errors import JsonResponse
from smsgate.adapters.http_api.fast_path import FastSend
from smsgate.adapters.http_api.limits import BodySizeLimit, RateLimiter


def create_asgi(ctx: ApiContext) -> ASGIApp:
    """The application with the fast front for sending."""
    return FastSend(create_app(ctx), ctx=ctx, max_body_bytes=ctx.settings.max_body_bytes)


def create_app(ctx: ApiContext) -> FastAPI:
    app = FastAPI(
        title="smsgate",
        version=__version__,
        description="Self-hosted SMS gateway: REST API v1. Authenticate with "
        "`Authorization: Bearer <API key>`.",
        default_response_class=JsonResponse,
    )
    ctx.rate_limiter = RateLimiter(ctx.settings.rate_limit_per_s)
    app.state.ctx = ctx
    errors.install(app)
    app.include_router(routes_messages.router)
    app.include_router(routes_webhooks.router)
    app.include_router(routes_admin.router)
    app.add_middleware(BodySizeLimit, max_bytes=ctx.settings.max_body_bytes)

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

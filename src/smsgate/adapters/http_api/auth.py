"""Bearer API keys; repeated failures from one address are slowed down, then refused
(DESIGN.md §7: after 10 within 60 s, 429 with Retry-After; valid keys are still served)."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass

from fastapi import Request

from smsgate.adapters.http_api.context import ApiContext
from smsgate.adapters.http_api.errors import ApiError
from smsgate.adapters.http_api.limits import RateLimiter
from smsgate.services.records import Account, ApiKey

FREE_FAILURES = 5
MAX_DELAY_S = 2.0


@dataclass(frozen=True, slots=True)
class Principal:
    account: Account
    key: ApiKey


def failure_delay(failures: int) -> float:
    """How long the answer to the n-th failed authentication from one address is held:
    nothing for the first FREE_FAILURES, then 0.1 s more for each, up to MAX_DELAY_S."""
    return min(MAX_DELAY_S, 0.1 * max(0, failures - FREE_FAILURES))


def _unauthorized(message: str, *, retry_after: float = 0.0) -> ApiError:
    headers = {"WWW-Authenticate": "Bearer"}
    if retry_after > 0:  # tell a well-meaning client to back off; a guesser is slowed anyway
        headers["Retry-After"] = str(math.ceil(retry_after))
    return ApiError(401, "unauthorized", message, headers=headers)


async def authenticate(request: Request) -> Principal:
    ctx: ApiContext = request.app.state.ctx
    client = request.client.host if request.client else "?"
    return await check_credentials(ctx, request.headers.get("authorization", ""), client)


async def check_credentials(ctx: ApiContext, header: str, client: str) -> Principal:
    """The account behind an Authorization header; raises ApiError (401, 429)."""
    scheme, _, token = header.partition(" ")
    now = ctx.clock.now()
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("send the API key as 'Authorization: Bearer <key>'")
    found = await ctx.store.authenticate(token.strip(), now=now)
    if found is None:
        wait = ctx.auth_failures.record(client, now)
        if wait > 0:
            raise ApiError(
                429,
                "too_many_failures",
                "too many failed authentications from this address",
                headers={"Retry-After": RateLimiter.retry_after(wait)},
            )
        delay = failure_delay(ctx.auth_failures.failures(client, now))
        if delay > 0:
            ctx.auth_delayed_s += delay
            await asyncio.sleep(delay)
        raise _unauthorized("the API key is not valid", retry_after=delay)
    wait = ctx.rate_limiter.check(found[1].id, now)
    if wait > 0:
        raise ApiError(
            429,
            "rate_limited",
            "too many requests for this API key",
            headers={"Retry-After": ctx.rate_limiter.retry_after(wait)},
        )
    return Principal(found[0], found[1])


async def require_admin(request: Request) -> Principal:
    principal = await authenticate(request)
    if not principal.account.is_admin:
        raise ApiError(403, "forbidden", "this call needs an admin API key")
    return principal

"""Abuse limits: request body size (413), a per-key request rate (429 with Retry-After) and
failed credential checks per address (429 with Retry-After)."""

from __future__ import annotations

import math
from collections import deque

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smsgate.adapters.http_api.errors import error_response


class BodySizeLimit:
    """Refuse bodies over `max_bytes`, whether announced by Content-Length or streamed."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await self._refuse(scope, receive, send)
                    return
        # Read the whole body first (it is bounded by max_bytes): an error raised from inside
        # `receive` would reach the framework's body parsing, which answers it with a 400.
        chunks: list[bytes] = []
        seen = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413, "body_too_large", f"the body is larger than {self.max_bytes} bytes", "body"
        )
        await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """`receive` for an application, with the body already read handed over first."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class RateLimiter:
    """A token bucket per API key (in memory: per process)."""

    def __init__(self, rate_per_s: float, *, burst: float | None = None) -> None:
        self.rate = rate_per_s
        self.burst = burst if burst is not None else max(1.0, rate_per_s)
        self._buckets: dict[str, tuple[float, float]] = {}

    def check(self, key: str, now: float) -> float:
        """0 when allowed; else the seconds to wait."""
        if self.rate <= 0:
            return 0.0
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate

    @staticmethod
    def retry_after(wait_s: float) -> str:
        return str(max(1, math.ceil(wait_s)))


class FailureThrottle:
    """Failed credential checks per client address (DESIGN.md §7): after `limit` failures
    within `window_s`, further failures are refused until the oldest of them is `window_s`
    old. Pure: the caller passes the time. Only failures are counted, so valid credentials
    from a throttled address are still served."""

    def __init__(
        self, *, limit: int = 10, window_s: float = 60.0, max_addresses: int = 100_000
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_addresses = max_addresses
        self._failures: dict[str, deque[float]] = {}

    def failures(self, address: str, now: float) -> int:
        """Failures from `address` within the window before `now`."""
        times = self._failures.get(address)
        return sum(1 for t in times if now - t < self.window_s) if times else 0

    def record(self, address: str, now: float) -> float:
        """Count a failure; the seconds the address must wait (0: answer it as usual)."""
        times = self._failures.get(address)
        if times is None:
            if len(self._failures) >= self.max_addresses:
                self._forget(now)
            times = self._failures[address] = deque(maxlen=self.limit + 1)
        times.append(now)
        if len(times) <= self.limit or now - times[0] >= self.window_s:
            return 0.0
        # More than `limit` within the window: wait until only `limit` are left in it.
        return max(0.0, times[1] + self.window_s - now)

    def _forget(self, now: float) -> None:
        stale = [a for a, t in self._failures.items() if not t or now - t[-1] >= self.window_s]
        for address in stale:
            del self._failures[address]
        while len(self._failures) >= self.max_addresses:  # all recent: drop the oldest
            del self._failures[next(iter(self._failures))]

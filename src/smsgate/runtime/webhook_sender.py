"""The webhook sender: posts queued events, signs them, retries with backoff for 24 hours,
and records every attempt (DESIGN.md §3)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from smsgate.adapters.http_client import Poster, PostError
from smsgate.adapters.store.cache import TtlCache
from smsgate.adapters.store.store import DeliveryAttempt, Store
from smsgate.adapters.url_guard import UrlGuard
from smsgate.adapters.webhook_http import LeanPoster
from smsgate.domain.retry import webhook_backoff
from smsgate.services.clock import Clock
from smsgate.services.events import sign
from smsgate.services.records import Delivery

log = logging.getLogger(__name__)

USER_AGENT = "smsgate-webhooks/1"
FLUSH_DELAY_S = 0.005


class WebhookSender:
    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        timeout_s: float = 10.0,
        max_age_s: float = 24 * 3600.0,
        concurrency: int = 64,
        poll_s: float = 1.0,
        batch: int = 500,
        poster: Poster | None = None,
        guard: UrlGuard | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._timeout_s = timeout_s
        self._max_age_s = max_age_s
        self._concurrency = concurrency
        self._poll_s = poll_s
        self._batch = batch
        self._poster_given = poster
        self._guard = guard
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._poster: Poster | None = None
        self._slots = asyncio.Semaphore(concurrency)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._results: list[DeliveryAttempt] = []
        self._flush_scheduled = False
        self._flushes: set[asyncio.Task[None]] = set()
        self._secrets: TtlCache[tuple[str, str | None], str | None] = TtlCache(ttl_s=60.0)
        self.sent = 0
        self.failed_attempts = 0

    def wake(self) -> None:
        self._wakeup.set()

    async def start(self) -> None:
        self._poster = self._poster_given or LeanPoster(
            timeout_s=self._timeout_s,
            concurrency=self._concurrency,
            user_agent=USER_AGENT,
            guard=self._guard,
        )
        self._task = asyncio.create_task(self._run(), name="webhook-sender")

    async def stop(self, *, drain_s: float = 5.0) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._in_flight:
            _done, pending = await asyncio.wait(set(self._in_flight), timeout=drain_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._flush()
        if self._poster is not None:
            await self._poster.close()
            self._poster = None

    async def _run(self) -> None:
        # Each delivery is its own task: a slow or dead endpoint holds one slot, never a
        # whole batch. Results are recorded in batches as they come in.
        limit = self._concurrency * 2
        while True:
            started = 0
            room = limit - len(self._in_flight)
            if room > 0:
                try:
                    started = await self._claim_and_start(min(room, self._batch))
                except Exception:
                    log.exception("claiming webhook deliveries failed")
            if started == 0 or len(self._in_flight) >= limit:
                self._wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_s):
                        await self._wakeup.wait()

    async def _claim_and_start(self, limit: int) -> int:
        due = await self._store.claim_deliveries(
            now=self._clock.now(), limit=limit, lease_s=self._timeout_s * 3 + 30
        )
        for delivery in due:
            task = asyncio.create_task(self._deliver(delivery))
            self._in_flight.add(task)
            task.add_done_callback(self._finished)
        return len(due)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        if not self._flush_scheduled:
            # Gather a few milliseconds of results into one write.
            self._flush_scheduled = True
            asyncio.get_running_loop().call_later(FLUSH_DELAY_S, self._start_flush)
        if len(self._in_flight) <= self._concurrency:
            self._wakeup.set()  # room for a good batch: claim more (not one per completion)

    def _start_flush(self) -> None:
        self._flush_scheduled = False
        task = asyncio.create_task(self._flush())
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    async def _deliver(self, delivery: Delivery) -> None:
        async with self._slots:
            self._results.append(await self._post(delivery))

    async def _flush(self) -> None:
        results, self._results = self._results, []
        if results:
            try:
                await self._store.record_delivery_attempts(results)
            except Exception:
                # The claims run out and the deliveries are tried again (same event id).
                log.exception("recording webhook attempts failed")

    async def run_once(self) -> int:
        """One round for tests and tools: claim, post every due delivery, record."""
        due = await self._store.claim_deliveries(
            now=self._clock.now(), limit=self._batch, lease_s=self._timeout_s * 3 + 30
        )
        await asyncio.gather(*(self._deliver(d) for d in due))
        await self._flush()
        return len(due)

    async def _secret(self, delivery: Delivery) -> str | None:
        """The webhook's secret, or the account's signing secret for a message's callback_url."""

        async def load() -> str | None:
            if delivery.webhook_id is None:
                account = await self._store.get_account(delivery.account_id)
                return account.signing_secret if account else None
            hook = await self._store.get_webhook(delivery.account_id, delivery.webhook_id)
            return hook.secret if hook else None

        key = (delivery.account_id, delivery.webhook_id)
        return await self._secrets.get(key, self._clock.now(), load)

    def forget_secret(self, account_id: str) -> None:
        """The account's callback secret was rotated in this process: sign with the new one
        from the next attempt on. (Another process notices within the cache's TTL.)"""
        self._secrets.invalidate((account_id, None))

    async def _post(self, delivery: Delivery) -> DeliveryAttempt:
        assert self._poster is not None
        started = time.perf_counter()
        now = self._clock.now()
        attempts = delivery.attempts + 1
        status_code: int | None = None
        error: str | None = None
        secret = await self._secret(delivery)
        if secret is None:
            error = "the webhook was deleted"
        else:
            body = delivery.payload.encode()
            headers = {
                "Smsgate-Signature": sign(secret, int(now), body),
                "Smsgate-Event-Id": delivery.event_id,
            }
            try:
                status_code = await self._poster.post(delivery.url, body, headers)
                if not 200 <= status_code < 300:
                    error = f"HTTP {status_code}"
            except PostError as exc:
                error = exc.reason
        duration_ms = (time.perf_counter() - started) * 1000
        if error is None:
            self.sent += 1
            new_status, next_at = "delivered", None
        else:
            self.failed_attempts += 1
            next_at = now + webhook_backoff(attempts)
            gone = secret is None or next_at > delivery.created_at + self._max_age_s
            new_status, next_at = ("failed", None) if gone else ("pending", next_at)
        return DeliveryAttempt(
            delivery_id=delivery.id,
            attempted_at=now,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
            new_status=new_status,
            attempts=attempts,
            next_attempt_at=next_at,
        )

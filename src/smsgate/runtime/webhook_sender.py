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
from smsgate.runtime.webhook_origins import Origin, OriginHealth, origin_of
from smsgate.services.clock import Clock
from smsgate.services.events import sign
from smsgate.services.records import Delivery

log = logging.getLogger(__name__)

USER_AGENT = "smsgate-webhooks/1"
FLUSH_DELAY_S = 0.005
CLAIM_GATHER_S = 0.01


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
        self._lease_s = timeout_s * 3 + 30
        # A claim is worth a transaction once this many slots are free (or when idle).
        self._min_claim = max(1, concurrency // 8)
        self._origins = OriginHealth()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._results: list[DeliveryAttempt] = []
        self._deferred: list[tuple[str, float]] = []  # claimed, put back unattempted
        self._hastened: list[tuple[str, float]] = []  # put back earlier, due now
        self._flush_scheduled = False
        self._flushes: set[asyncio.Task[None]] = set()
        self._secrets: TtlCache[tuple[str, str | None], str | None] = TtlCache(ttl_s=60.0)
        self.sent = 0
        self.failed_attempts = 0
        self.deferrals = 0

    def wake(self) -> None:
        self._wakeup.set()

    async def open(self) -> None:
        """Ready to post, without the claiming loop: `run_once` drives the rounds (a loop
        beside it would claim what a round was meant to take)."""
        if self._poster is None:
            self._poster = self._poster_given or LeanPoster(
                timeout_s=self._timeout_s,
                concurrency=self._concurrency,
                user_agent=USER_AGENT,
                guard=self._guard,
            )

    async def start(self) -> None:
        await self.open()
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
        # whole batch. A claim takes only what can start now (the free slots), so no claimed
        # row waits unstarted; results are recorded in batches as they come in.
        while True:
            room = self._concurrency - len(self._in_flight)
            asked = min(room, self._batch)
            got = 0
            if asked >= self._min_claim or (asked > 0 and not self._in_flight):
                try:
                    got = await self._claim_and_start(asked)
                except Exception:
                    log.exception("claiming webhook deliveries failed")
            if got < asked or asked < self._min_claim:
                # Nothing more due, or too few slots free to be worth a claim: wait for new
                # deliveries or finished posts (or the poll, for retries falling due).
                self._wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_s):
                        await self._wakeup.wait()
                # Woken by a commit of new deliveries (or freed slots): let a few more come
                # due, so that a claim takes a batch instead of a row or two per wake-up.
                await asyncio.sleep(CLAIM_GATHER_S)

    async def _claim_and_start(self, limit: int) -> int:
        now = self._clock.now()
        due = await self._store.claim_deliveries(now=now, limit=limit, lease_s=self._lease_s)
        for delivery in due:
            self._start(delivery, now)
        if self._deferred and not self._flush_scheduled:
            self._schedule_flush()
        return len(due)

    def _start(self, delivery: Delivery, now: float) -> asyncio.Task[None] | None:
        """Post `delivery` now, or put it back unattempted while its origin is down (unless
        that would take it past its 24 hours: its last try is a real one)."""
        origin = origin_of(delivery.url)
        admission = self._origins.admit(
            origin, delivery.id, now=now, age_s=now - delivery.created_at
        )
        until = admission.defer_until
        if until is not None:
            # Its last try is a real one: never put back past its 24 hours.
            until = min(until, delivery.created_at + self._max_age_s)
        if until is not None and until > now:
            self._deferred.append((delivery.id, until))
            self.deferrals += 1
            return None
        task = asyncio.create_task(self._deliver(delivery, origin, probe=admission.probe))
        self._in_flight.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        if not self._flush_scheduled:
            self._schedule_flush()
        if self._concurrency - len(self._in_flight) >= self._min_claim:
            self._wakeup.set()  # room for a good batch: claim more (not one per completion)

    def _schedule_flush(self) -> None:
        # Gather a few milliseconds of results into one write.
        self._flush_scheduled = True
        asyncio.get_running_loop().call_later(FLUSH_DELAY_S, self._start_flush)

    def _start_flush(self) -> None:
        self._flush_scheduled = False
        task = asyncio.create_task(self._flush())
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    async def _deliver(self, delivery: Delivery, origin: Origin | None, *, probe: bool) -> None:
        attempt, answered = await self._post(delivery)
        self._results.append(attempt)
        now = self._clock.now()
        if answered:
            # The origin is up: what was put back while it was down is due now.
            self._hastened.extend((i, now) for i in self._origins.answered(origin))
        elif answered is False:
            self._origins.failed(origin, now=now, probe=probe)
        elif probe:
            self._origins.no_verdict(origin)

    async def _flush(self) -> None:
        results, self._results = self._results, []
        deferred, self._deferred = self._deferred, []
        hastened, self._hastened = self._hastened, []
        if results or deferred or hastened:
            try:
                await self._store.record_delivery_attempts(
                    results, deferred=deferred, hastened=hastened
                )
            except Exception:
                # The claims run out and the deliveries are tried again (same event id).
                log.exception("recording webhook attempts failed")

    async def run_once(self) -> int:
        """One round for tests and tools: claim what can start, post it (or put it back while
        its origin is down), record. Returns how many deliveries were claimed."""
        now = self._clock.now()
        limit = min(self._batch, self._concurrency)
        due = await self._store.claim_deliveries(now=now, limit=limit, lease_s=self._lease_s)
        tasks = [task for d in due if (task := self._start(d, now)) is not None]
        await asyncio.gather(*tasks)
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

    async def _post(self, delivery: Delivery) -> tuple[DeliveryAttempt, bool | None]:
        """One attempt, always recorded: whatever goes wrong building or sending the request
        becomes a failed attempt with its reason. Also returns whether the origin answered
        (None when the request was never made, e.g. a bad URL)."""
        started = time.perf_counter()
        now = self._clock.now()
        attempts = delivery.attempts + 1
        status_code: int | None = None
        error: str | None = None
        answered: bool | None = None
        secret: str | None = ""
        try:
            secret = await self._secret(delivery)
            if secret is None:
                error = "the webhook was deleted"
            else:
                status_code = await self._send(delivery, secret, now)
                answered = True
                if not 200 <= status_code < 300:
                    error = f"HTTP {status_code}"
        except PostError as exc:
            error = exc.reason
            answered = False if exc.origin_down else None
        except Exception as exc:
            # Never escape: an attempt that is not recorded leaves the delivery pending forever.
            log.exception("webhook delivery %s: the request failed", delivery.id)
            error = f"request failed: {type(exc).__name__}"
        duration_ms = (time.perf_counter() - started) * 1000
        if error is None:
            self.sent += 1
            new_status, next_at = "delivered", None
        else:
            self.failed_attempts += 1
            next_at = now + webhook_backoff(attempts)
            gone = secret is None or next_at > delivery.created_at + self._max_age_s
            new_status, next_at = ("failed", None) if gone else ("pending", next_at)
        attempt = DeliveryAttempt(
            delivery_id=delivery.id,
            attempted_at=now,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
            new_status=new_status,
            attempts=attempts,
            next_attempt_at=next_at,
        )
        return attempt, answered

    async def _send(self, delivery: Delivery, secret: str, now: float) -> int:
        assert self._poster is not None
        body = delivery.payload.encode()
        headers = {
            "Smsgate-Signature": sign(secret, int(now), body),
            "Smsgate-Event-Id": delivery.event_id,
        }
        return await self._poster.post(delivery.url, body, headers)

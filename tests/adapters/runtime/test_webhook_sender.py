"""The webhook sender over a real SQLite store: signatures, retries with backoff for 24 hours,
recorded attempts. The HTTP side is a scripted Poster (the port), not a patch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from smsgate.adapters.http_client import PostError
from smsgate.adapters.store.database import make_engine, migrate
from smsgate.adapters.store.store import Store
from smsgate.adapters.url_guard import UrlGuard
from smsgate.runtime.webhook_sender import WebhookSender
from smsgate.services.events import MESSAGE_STATUS, deliveries_for, verify
from smsgate.services.ids import new_id
from smsgate.services.records import Delivery, Message, NewDelivery, NewMessage
from smsgate.testing.records import a_message
from tests.adapters.webhook_client.fake_dns import FakeDns
from tests.adapters.webhook_client.test_webhook_http import OK, Server


@dataclass
class Request:
    url: str
    content: bytes
    headers: Mapping[str, str]


class ScriptedPoster:
    """Answers with the status codes a handler returns (or raises PostError)."""

    def __init__(self, handler: Callable[[Request], int]) -> None:
        self.handler = handler

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        return self.handler(Request(url, body, {k.lower(): v for k, v in headers.items()}))

    async def close(self) -> None:
        pass


class FakeClock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def now(self) -> float:
        return self.t


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    url = f"sqlite:///{tmp_path}/w.db"
    engine = make_engine(url)
    await migrate(engine)
    s = Store(engine, url=url, commit_window_s=0)
    await s.start()
    yield s
    await s.stop()
    await engine.dispose()


def _delivered(message_id: str, account_id: str, t: float, *, callback_url: str) -> Message:
    """A delivered message asking for a callback."""
    return a_message(
        id=message_id,
        account_id=account_id,
        created_at=t,
        updated_at=t,
        callback_url=callback_url,
    )


async def _queue_event(store: Store, clock: FakeClock, url: str) -> tuple[str, str]:
    account = await store.create_account(name="acme", now=clock.t)
    hook = await store.create_webhook(
        account.id, url=url, events=["message.status"], description="", now=clock.t
    )
    message = _delivered("msg_1", account.id, clock.t, callback_url=url + "/callback")
    hooks = await store.webhooks_for(account.id, now=clock.t)
    deliveries = deliveries_for(MESSAGE_STATUS, message, hooks, clock.t)
    assert len(deliveries) == 2  # the subscription and the message's callback_url
    await store.accept(
        [NewMessage(message=message, parts=(), due_at=None, events=(), deliveries=deliveries)]
    )
    return hook.secret, account.signing_secret


async def test_signed_post_then_retry_with_backoff(store: Store) -> None:
    clock = FakeClock()
    seen: list[Request] = []
    answers = iter([500, 503, 200, 200, 200, 200])

    def handler(request: Request) -> int:
        seen.append(request)
        return next(answers)

    secret, account_secret = await _queue_event(store, clock, "http://hooks.example/wh")
    sender = WebhookSender(store=store, clock=clock, poster=ScriptedPoster(handler))
    await sender.open()  # rounds by run_once, no loop beside them
    try:
        assert await sender.run_once() == 2
        assert len(seen) == 2
        for request in seen:
            secret_for = account_secret if request.url.endswith("/wh/callback") else secret
            assert verify(
                secret_for, request.headers["smsgate-signature"], request.content, now=clock.t
            )
            assert request.headers["smsgate-event-id"].startswith("evt_")
        # Nothing is due before the backoff has passed.
        assert await sender.run_once() == 0
        clock.t += 5.1
        assert await sender.run_once() == 2
        deliveries = await store.list_deliveries(
            (await store.list_accounts())[0].id, message_id="msg_1"
        )
        assert sorted(d.status for d in deliveries) == ["delivered", "delivered"]
        assert all(d.attempts == 2 for d in deliveries)
        attempts = await store.list_attempts(deliveries[0].id)
        assert [a["status_code"] for a in attempts] in ([500, 200], [503, 200])
        # Both deliveries carry the same event id: a receiver can drop repeats.
        assert len({d.event_id for d in deliveries}) == 1
    finally:
        await sender.stop()


async def test_gives_up_after_24_hours(store: Store) -> None:
    clock = FakeClock()
    calls = 0

    def handler(request: Request) -> int:
        nonlocal calls
        calls += 1
        raise PostError("ClientConnectorError")

    await _queue_event(store, clock, "http://down.example/wh")
    sender = WebhookSender(store=store, clock=clock, poster=ScriptedPoster(handler))
    await sender.open()  # rounds by run_once, no loop beside them
    try:
        rounds = 0
        while await sender.run_once() or rounds == 0:
            rounds += 1
            clock.t += 3600.1
        account_id = (await store.list_accounts())[0].id
        deliveries = await store.list_deliveries(account_id, message_id="msg_1")
        assert {d.status for d in deliveries} == {"failed"}
        # Backoff 5 s doubling to an hour: the last try lands just inside 24 hours.
        assert all(20 <= d.attempts <= 40 for d in deliveries)
        assert all(d.last_error == "ClientConnectorError" for d in deliveries)
        assert calls == sum(d.attempts for d in deliveries)
    finally:
        await sender.stop()


class GatedPoster:
    """Holds every POST to a URL containing 'slow' until released."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.fast_done = asyncio.Event()
        self.slow_hanging = asyncio.Event()
        self.urls: list[str] = []

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        self.urls.append(url)
        if "slow" in url:
            if sum("slow" in u for u in self.urls) == 2:
                self.slow_hanging.set()
            await self.release.wait()
        else:
            self.fast_done.set()
        return 200

    async def close(self) -> None:
        pass


async def test_a_slow_endpoint_does_not_hold_up_the_others(store: Store) -> None:
    clock = FakeClock()
    await _queue_event(store, clock, "http://slow.example/wh")  # two deliveries, both slow
    poster = GatedPoster()
    sender = WebhookSender(store=store, clock=clock, poster=poster, poll_s=0.05)
    await sender.start()
    try:
        async with asyncio.timeout(10):
            await poster.slow_hanging.wait()
        # While those hang, a new event for another endpoint goes out at once.
        account = await store.create_account(name="other", now=clock.t)
        await store.create_webhook(
            account.id,
            url="http://fast.example/wh",
            events=["message.status"],
            description="",
            now=clock.t,
        )
        message = Message(
            id="msg_2",
            account_id=account.id,
            direction="outbound",
            to_addr="+359888123456",
            from_addr="ACME",
            from_ton=5,
            from_npi=0,
            text="hi",
            status="delivered",
            category="transactional",
            encoding="gsm7",
            parts=1,
            created_at=clock.t,
            updated_at=clock.t,
        )
        hooks = await store.webhooks_for(account.id, now=clock.t)
        deliveries = deliveries_for(MESSAGE_STATUS, message, hooks, clock.t)
        await store.accept(
            [NewMessage(message=message, parts=(), due_at=None, events=(), deliveries=deliveries)]
        )
        sender.wake()
        async with asyncio.timeout(10):
            await poster.fast_done.wait()
        poster.release.set()
    finally:
        await sender.stop()
    statuses = {d.url: d.status for d in await store.list_deliveries(account.id)}
    assert statuses == {"http://fast.example/wh": "delivered"}
    first = (await store.list_accounts())[0].id
    assert {d.status for d in await store.list_deliveries(first)} == {"delivered"}


async def test_a_refused_address_is_a_recorded_attempt_and_nothing_connects(store: Store) -> None:
    async with Server(lambda n: OK) as server:
        clock = FakeClock()
        await _queue_event(store, clock, f"http://hooks.example:{server.port}/wh")
        # The name now points at loopback, which the operator did not allow.
        resolver = FakeDns({"hooks.example": [["127.0.0.1"]]})
        sender = WebhookSender(store=store, clock=clock, guard=UrlGuard(resolver=resolver))
        await sender.open()  # rounds by run_once, no loop beside them
        try:
            assert await sender.run_once() == 2
        finally:
            await sender.stop()
        account_id = (await store.list_accounts())[0].id
        deliveries = await store.list_deliveries(account_id, message_id="msg_1")
        assert {(d.status, d.attempts, d.last_error) for d in deliveries} == {
            ("pending", 1, "url_not_allowed")
        }
        for d in deliveries:
            [attempt] = await store.list_attempts(d.id)
            assert attempt["error"] == "url_not_allowed"
            assert attempt["status_code"] is None
        assert server.connections == 0


async def test_a_rotated_callback_secret_signs_from_the_next_attempt(store: Store) -> None:
    clock = FakeClock()
    seen: list[Request] = []

    def handler(request: Request) -> int:
        seen.append(request)
        return 200

    _hook_secret, old = await _queue_event(store, clock, "http://hooks.example/wh")
    sender = WebhookSender(store=store, clock=clock, poster=ScriptedPoster(handler))
    await sender.open()  # rounds by run_once, no loop beside them
    try:
        assert await sender.run_once() == 2  # the account's secret is in the sender's cache
        account = (await store.list_accounts())[0]
        new = await store.rotate_signing_secret(account.id)
        assert new is not None
        sender.forget_secret(account.id)  # what the rotate endpoint does in this process
        message = _delivered("msg_2", account.id, clock.t, callback_url="http://hooks.example/cb2")
        deliveries = deliveries_for(MESSAGE_STATUS, message, (), clock.t)
        await store.accept(
            [NewMessage(message=message, parts=(), due_at=None, events=(), deliveries=deliveries)]
        )
        seen.clear()
        assert await sender.run_once() == 1
    finally:
        await sender.stop()
    [callback] = seen
    header = callback.headers["smsgate-signature"]
    assert verify(new, header, callback.content, now=clock.t)
    assert not verify(old, header, callback.content, now=clock.t)


async def _queue_deliveries(store: Store, clock: FakeClock, urls: list[str]) -> list[str]:
    """One callback delivery per URL (a message's callback_url), due now; their ids."""
    account = await store.account_by_name("acme") or await store.create_account(
        name="acme", now=clock.t
    )
    ids = []
    for i, url in enumerate(urls):
        delivery = NewDelivery(
            id=new_id("dlv", clock.t + i / 1e6),
            event_id=new_id("evt", clock.t),
            event="message.status",
            account_id=account.id,
            webhook_id=None,
            message_id=None,
            url=url,
            payload='{"ok": true}',
            created_at=clock.t,
        )
        await store.apply([delivery])
        ids.append(delivery.id)
    return ids


async def _deliveries(store: Store) -> dict[str, Delivery]:
    account = await store.account_by_name("acme")
    assert account is not None
    return {d.id: d for d in await store.list_deliveries(account.id, limit=1000)}


async def test_the_sender_claims_only_what_it_can_start(store: Store) -> None:
    clock = FakeClock()
    await _queue_deliveries(store, clock, [f"http://slow.example/{i}" for i in range(20)])
    poster = HeldPoster(hanging=4)
    sender = WebhookSender(store=store, clock=clock, poster=poster, concurrency=4)
    await sender.start()
    try:
        async with asyncio.timeout(10):
            await poster.all_hanging.wait()
        # Four posts in flight, four rows claimed: the other sixteen are still due.
        left = await store.claim_deliveries(now=clock.t, limit=100, lease_s=60)
        assert len(left) == 16
        poster.release.set()
    finally:
        await sender.stop()
    assert len(poster.urls) == 4


class HeldPoster:
    """Holds every POST until released; `all_hanging` once `hanging` are held."""

    def __init__(self, hanging: int) -> None:
        self.hanging = hanging
        self.release = asyncio.Event()
        self.all_hanging = asyncio.Event()
        self.urls: list[str] = []

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        self.urls.append(url)
        if len(self.urls) >= self.hanging:
            self.all_hanging.set()
        await self.release.wait()
        return 200

    async def close(self) -> None:
        pass


async def test_a_down_origin_is_probed_while_other_origins_are_served(store: Store) -> None:
    clock = FakeClock()
    up = {"up.example"}
    posts: list[str] = []

    def handler(request: Request) -> int:
        posts.append(request.url)
        if urlsplit(request.url).hostname not in up:
            raise PostError("ConnectionRefusedError", origin_down=True)
        return 200

    down_ids = await _queue_deliveries(
        store, clock, [f"http://down.example/{i}" for i in range(10)]
    )
    sender = WebhookSender(store=store, clock=clock, poster=ScriptedPoster(handler))
    await sender.open()  # rounds by run_once, no loop beside them
    try:
        # Nothing is known of the origin yet: each delivery is tried (a recorded attempt).
        assert await sender.run_once() == 10
        assert len(posts) == 10
        # Their retries fall due: one probe goes to the down origin, the other nine are put
        # back unattempted, and new deliveries to another origin all go out meanwhile.
        clock.t += 5.1
        up_ids = await _queue_deliveries(store, clock, [f"http://up.example/{i}" for i in range(5)])
        posts.clear()
        assert await sender.run_once() == 15
        assert (
            sorted(urlsplit(u).hostname or "" for u in posts)
            == ["down.example"] + ["up.example"] * 5
        )
        # No hot loop: nothing goes to the down origin until its pause is over.
        posts.clear()
        for _ in range(5):
            await sender.run_once()
        assert posts == []
        by_id = await _deliveries(store)
        assert {by_id[i].status for i in up_ids} == {"delivered"}
        assert sorted(by_id[i].attempts for i in down_ids) == [1] * 9 + [2]
        # The origin comes back: the next probe succeeds and what was put back goes at once.
        up.add("down.example")
        clock.t += 300
        while await sender.run_once():
            pass
        by_id = await _deliveries(store)
        assert {by_id[i].status for i in down_ids} == {"delivered"}
        # Every attempt recorded is a request that was made: no attempt for the put-backs.
        attempts = [len(await store.list_attempts(i)) for i in down_ids]
        assert sorted(attempts) == [2] * 9 + [3]
        assert sum(attempts) == 10 + 1 + 10
    finally:
        await sender.stop()


async def test_a_request_that_cannot_be_built_is_a_recorded_failed_attempt(store: Store) -> None:
    """A URL with characters outside Latin-1 once made the request raise UnicodeEncodeError
    out of the sender: no attempt recorded, the delivery pending forever."""
    clock = FakeClock()
    url = "http://127.0.0.1:9/\u0436\U0001f600"  # never connected to: the request is not built
    [delivery_id] = await _queue_deliveries(store, clock, [url])
    sender = WebhookSender(store=store, clock=clock)  # the real poster (LeanPoster)
    await sender.open()  # rounds by run_once, no loop beside them
    try:
        assert await sender.run_once() == 1
    finally:
        await sender.stop()
    delivery = (await _deliveries(store))[delivery_id]
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    [attempt] = await store.list_attempts(delivery_id)
    assert attempt["error"]  # today "request failed: UnicodeEncodeError"
    assert attempt["error"] == delivery.last_error
    assert delivery.next_attempt_at == clock.t + 5  # retried with backoff, not in a loop

"""Webhooks per account, their cache, and the delivery queue with its recorded attempts."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import update

from smsgate.adapters.store import schema
from smsgate.adapters.store.store import WEBHOOK_CACHE_S, DeliveryAttempt, Store
from smsgate.services.records import Account, Delivery

from .factories import T0, delivery, new_message

LEASE = 60.0


async def test_webhooks_are_scoped_by_account(
    store: Store, account: Account, other_account: Account
) -> None:
    hook = await store.create_webhook(
        account.id,
        url="https://a.example/h",
        events=["message.delivered", "message.failed"],
        description="ops",
        now=T0,
    )
    assert hook.events == ("message.delivered", "message.failed")
    assert hook.active
    assert await store.get_webhook(account.id, hook.id) == hook
    assert await store.list_webhooks(account.id) == [hook]

    assert await store.get_webhook(other_account.id, hook.id) is None
    assert await store.list_webhooks(other_account.id) == []
    assert await store.delete_webhook(other_account.id, hook.id) is False
    assert await store.get_webhook(account.id, hook.id) == hook

    assert await store.delete_webhook(account.id, hook.id) is True
    assert await store.get_webhook(account.id, hook.id) is None
    assert await store.delete_webhook(account.id, hook.id) is False


async def test_webhooks_for_caches_and_writes_invalidate(store: Store, account: Account) -> None:
    assert await store.webhooks_for(account.id, now=T0) == ()
    first = await store.create_webhook(
        account.id, url="https://a.example/1", events=["*"], description="", now=T0
    )
    assert await store.webhooks_for(account.id, now=T0) == (first,)  # create invalidated
    second = await store.create_webhook(
        account.id, url="https://a.example/2", events=["*"], description="", now=T0 + 1
    )
    assert set(await store.webhooks_for(account.id, now=T0 + 1)) == {first, second}

    # A change behind the store's back shows only when the cached entry expires.
    async with store.engine.begin() as conn:
        await conn.execute(
            update(schema.webhooks).where(schema.webhooks.c.id == first.id).values(active=False)
        )
    assert set(await store.webhooks_for(account.id, now=T0 + 2)) == {first, second}
    expired = T0 + 2 + WEBHOOK_CACHE_S  # cached at T0 + 1
    assert await store.webhooks_for(account.id, now=expired) == (second,)  # inactive left out

    assert await store.delete_webhook(account.id, second.id) is True
    assert await store.webhooks_for(account.id, now=expired) == ()


async def test_claim_deliveries_takes_due_pending_rows_with_a_lease(
    store: Store, account: Account
) -> None:
    due = delivery(account.id, at=T0)
    later = delivery(account.id, at=T0 + 100)
    await store.apply([due, later])

    [claimed] = await store.claim_deliveries(now=T0 + 1, limit=10, lease_s=LEASE)
    assert (claimed.id, claimed.status, claimed.attempts, claimed.next_attempt_at) == (
        due.id,
        "pending",
        0,
        T0,
    )
    assert (claimed.url, claimed.payload, claimed.event) == (due.url, due.payload, due.event)
    assert await store.claim_deliveries(now=T0 + 2, limit=10, lease_s=LEASE) == []
    # A sender that died: its claim returns after the lease.
    again = await store.claim_deliveries(now=T0 + LEASE + 2, limit=10, lease_s=LEASE)
    assert [d.id for d in again] == [due.id]
    both = await store.claim_deliveries(now=T0 + 2 * LEASE + 3, limit=10, lease_s=LEASE)
    assert [d.id for d in both] == [due.id, later.id]  # oldest due first
    assert len(await store.claim_deliveries(now=T0 + 999, limit=1, lease_s=LEASE)) == 1


async def test_recorded_attempts_update_the_delivery(store: Store, account: Account) -> None:
    retry = delivery(account.id, at=T0)
    done = delivery(account.id, at=T0)
    await store.apply([retry, done])
    assert len(await store.claim_deliveries(now=T0, limit=10, lease_s=LEASE)) == 2

    await store.record_delivery_attempts(
        [
            DeliveryAttempt(
                delivery_id=retry.id,
                attempted_at=T0 + 1,
                status_code=503,
                error="HTTP 503",
                duration_ms=12.5,
                new_status="pending",
                attempts=1,
                next_attempt_at=T0 + 31,
            ),
            DeliveryAttempt(
                delivery_id=done.id,
                attempted_at=T0 + 1,
                status_code=200,
                error=None,
                duration_ms=3.0,
                new_status="delivered",
                attempts=1,
                next_attempt_at=None,
            ),
        ]
    )
    by_id = {d.id: d for d in await store.list_deliveries(account.id)}
    r, d = by_id[retry.id], by_id[done.id]
    assert (r.status, r.attempts, r.next_attempt_at, r.last_status_code, r.last_error) == (
        "pending",
        1,
        T0 + 31,
        503,
        "HTTP 503",
    )
    assert r.delivered_at is None
    assert (d.status, d.attempts, d.last_status_code, d.delivered_at) == (
        "delivered",
        1,
        200,
        T0 + 1,
    )
    assert await store.list_attempts(retry.id) == [
        {"attempted_at": T0 + 1, "status_code": 503, "error": "HTTP 503", "duration_ms": 12.5}
    ]
    assert await store.list_attempts(done.id) == [
        {"attempted_at": T0 + 1, "status_code": 200, "error": None, "duration_ms": 3.0}
    ]
    # The retry's claim was released: it is due again at its next attempt, not before;
    # the delivered one never again.
    assert await store.claim_deliveries(now=T0 + 30, limit=10, lease_s=LEASE) == []
    again = await store.claim_deliveries(now=T0 + 31, limit=10, lease_s=LEASE)
    assert [x.id for x in again] == [retry.id]


async def test_list_deliveries_filters_by_webhook_and_message(
    store: Store, account: Account, other_account: Account
) -> None:
    hook = await store.create_webhook(
        account.id, url="https://a.example/h", events=["*"], description="", now=T0
    )
    msg = new_message(account.id)
    for_msg = delivery(account.id, message_id=msg.message.id, webhook_id=hook.id, at=T0 + 1)
    await store.accept([replace(msg, deliveries=(for_msg,))])
    other_hook = delivery(account.id, webhook_id="wh_other", at=T0 + 2)
    callback = delivery(account.id, at=T0 + 3)  # per-message callback_url: no webhook
    theirs = delivery(other_account.id, webhook_id=hook.id, message_id=msg.message.id, at=T0)
    await store.apply([other_hook, callback, theirs])

    def ids(found: list[Delivery]) -> list[str]:
        return [d.id for d in found]

    assert ids(await store.list_deliveries(account.id)) == [callback.id, other_hook.id, for_msg.id]
    assert ids(await store.list_deliveries(account.id, webhook_id=hook.id)) == [for_msg.id]
    assert ids(await store.list_deliveries(account.id, message_id=msg.message.id)) == [for_msg.id]
    assert (
        ids(
            await store.list_deliveries(
                account.id, webhook_id="wh_other", message_id=msg.message.id
            )
        )
        == []
    )
    assert ids(await store.list_deliveries(account.id, limit=1)) == [callback.id]
    assert ids(await store.list_deliveries(other_account.id)) == [theirs.id]

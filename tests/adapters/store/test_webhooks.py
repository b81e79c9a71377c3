"""Webhooks per account, their cache, and the delivery queue with its recorded attempts."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import event, select, update

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
    # Oldest due first: the one claimed twice is due since its last lease ended (T0+122).
    assert [d.id for d in both] == [later.id, due.id]
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


async def _due_times(store: Store) -> dict[str, float | None]:
    d = schema.webhook_deliveries.c
    async with store.engine.connect() as conn:
        rows = await conn.execute(select(d.id, d.next_attempt_at))
        return {r.id: r.next_attempt_at for r in rows}


async def test_a_claim_moves_the_due_time_to_the_lease_end(store: Store, account: Account) -> None:
    rows = [delivery(account.id, at=T0 + i / 1000) for i in range(5)]
    await store.apply(rows)
    first = await store.claim_deliveries(now=T0 + 1, limit=3, lease_s=LEASE)
    assert [d.id for d in first] == [r.id for r in rows[:3]]
    # Rows in flight leave the due range: the next claim starts past them, at the others.
    due = await _due_times(store)
    assert [due[r.id] for r in rows] == [T0 + 1 + LEASE] * 3 + [T0 + 0.003, T0 + 0.004]
    second = await store.claim_deliveries(now=T0 + 2, limit=10, lease_s=LEASE)
    assert [d.id for d in second] == [r.id for r in rows[3:]]
    # Not again before their lease ends; after it (the sender died), due by themselves.
    assert await store.claim_deliveries(now=T0 + LEASE, limit=10, lease_s=LEASE) == []
    again = await store.claim_deliveries(now=T0 + 1 + LEASE, limit=10, lease_s=LEASE)
    assert [d.id for d in again] == [r.id for r in rows[:3]]
    # A restarted single node releases its claims: due at once, not at the lease's end.
    assert await store.release_claims(now=T0 + LEASE + 5) == 5
    assert set((await _due_times(store)).values()) == {T0 + LEASE + 5}
    assert len(await store.claim_deliveries(now=T0 + LEASE + 5, limit=10, lease_s=LEASE)) == 5


async def test_the_claim_query_is_an_index_range_scan(store: Store, account: Account) -> None:
    """The claim reads `limit` rows off ix_webhook_deliveries_due in order (no sort, no scan
    of delivered history or of rows in flight): its cost does not grow with either."""
    await store.apply([delivery(account.id, at=T0 + i) for i in range(20)])
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "webhook_deliveries" in statement:
            seen.append((statement, params))

    # SQLite's writer runs on a plain sqlite3 engine of its own; PostgreSQL's on the store's.
    sync_engine = store.writer._sync_engine or store.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", capture)
    try:
        assert len(await store.claim_deliveries(now=T0 + 5, limit=3, lease_s=LEASE)) == 3
    finally:
        event.remove(sync_engine, "before_cursor_execute", capture)
    [(statement, params)] = seen
    async with store.engine.connect() as conn:
        if store.sqlite:
            result = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
            plan = " | ".join(str(r[-1]) for r in result)
            assert "USING INDEX ix_webhook_deliveries_due (status=? AND next_attempt_at<?)" in plan
        else:
            # A 20-row table is read whole by PostgreSQL's choice; show that the index serves.
            await conn.exec_driver_sql("SET enable_seqscan = off")
            result = await conn.exec_driver_sql("EXPLAIN " + statement, params)
            plan = " | ".join(str(r[0]) for r in result)
            assert "Index Scan using ix_webhook_deliveries_due" in plan
            assert "LockRows" in plan  # FOR UPDATE SKIP LOCKED
    assert "TEMP B-TREE" not in plan, plan
    assert "Sort" not in plan, plan

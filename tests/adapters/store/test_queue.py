"""The dispatch queue: claiming due parts with a lease, releasing, cancelling, expiring."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from smsgate.adapters.store import schema
from smsgate.adapters.store.store import Store
from smsgate.services.records import Account, MessageChange, OutboxChange, PartChange

from .factories import T0, delivery, new_message, open_store

LEASE = 30.0


async def _claimed_until(store: Store, message_id: str) -> list[float | None]:
    async with store.engine.connect() as conn:
        rows = await conn.execute(
            select(schema.outbox.c.claimed_until)
            .where(schema.outbox.c.message_id == message_id)
            .order_by(schema.outbox.c.seq)
        )
        return list(rows.scalars())


async def test_claim_due_takes_only_due_rows_and_marks_them_sending(
    store: Store, account: Account
) -> None:
    due = new_message(account.id, n_parts=2, due_at=T0)
    later = new_message(account.id, due_at=T0 + 20, status="scheduled", created_at=T0 + 1)
    unqueued = new_message(account.id, due_at=None, status="rejected", created_at=T0 + 2)
    await store.accept([due, later, unqueued])

    [claimed] = await store.claim_due(now=T0, limit=10, lease_s=LEASE)
    assert claimed.message.id == due.message.id
    assert claimed.message.status == "sending"
    assert [p.seq for p in claimed.parts] == [1, 2]
    assert all(p.status == "sending" for p in claimed.parts)
    assert claimed.attempts == {1: 0, 2: 0}
    assert [p.short_message for p in claimed.parts] == [p.short_message for p in due.parts]
    assert await _claimed_until(store, due.message.id) == [T0 + LEASE, T0 + LEASE]
    stored = await store.get_message(due.message.id)
    assert stored is not None
    assert (stored.status, stored.updated_at) == ("sending", T0)
    assert [p.status for p in await store.get_parts(due.message.id)] == ["sending", "sending"]
    # Not due yet: untouched.
    assert [p.status for p in await store.get_parts(later.message.id)] == ["scheduled"]

    [then] = await store.claim_due(now=T0 + 20, limit=10, lease_s=LEASE)
    assert then.message.id == later.message.id
    assert then.message.status == "sending"


async def test_a_claim_holds_until_its_lease_runs_out(store: Store, account: Account) -> None:
    new = new_message(account.id)
    await store.accept([new])
    assert len(await store.claim_due(now=T0, limit=10, lease_s=LEASE)) == 1
    assert await store.claim_due(now=T0 + 1, limit=10, lease_s=LEASE) == []
    assert await store.claim_due(now=T0 + LEASE - 1, limit=10, lease_s=LEASE) == []
    # The worker died: its claim comes back once the lease has passed.
    [again] = await store.claim_due(now=T0 + LEASE + 1, limit=10, lease_s=LEASE)
    assert again.message.id == new.message.id
    assert await _claimed_until(store, new.message.id) == [T0 + 2 * LEASE + 1]


async def test_due_message_carries_only_claimed_parts_and_their_attempts(
    store: Store, account: Account
) -> None:
    new = new_message(account.id, n_parts=3)
    await store.accept([new])
    # Part 2 was submitted (off the queue); part 3 failed once and is due again later.
    await store.apply(
        [
            OutboxChange(message_id=new.message.id, seq=2, due_at=None),
            OutboxChange(message_id=new.message.id, seq=3, due_at=T0 + 5, attempts=2),
        ]
    )
    [first] = await store.claim_due(now=T0 + 1, limit=10, lease_s=LEASE)
    assert ([p.seq for p in first.parts], first.attempts) == ([1], {1: 0})
    [second] = await store.claim_due(now=T0 + 5, limit=10, lease_s=LEASE)
    assert ([p.seq for p in second.parts], second.attempts) == ([3], {3: 2})


async def test_limit_bounds_the_claim_in_due_order(store: Store, account: Account) -> None:
    news = [new_message(account.id, due_at=T0 - i, created_at=T0 + i) for i in range(4)]
    await store.accept(news)
    claimed = await store.claim_due(now=T0, limit=2, lease_s=LEASE)
    assert [d.message.id for d in claimed] == [news[3].message.id, news[2].message.id]
    rest = await store.claim_due(now=T0, limit=10, lease_s=LEASE)
    assert [d.message.id for d in rest] == [news[1].message.id, news[0].message.id]


async def test_release_claims_makes_claimed_rows_due_again(store: Store, account: Account) -> None:
    news = [new_message(account.id, created_at=T0 + i) for i in range(3)]
    await store.accept(news)
    assert len(await store.claim_due(now=T0, limit=2, lease_s=LEASE)) == 2
    assert await store.release_claims() == 2
    again = await store.claim_due(now=T0 + 1, limit=10, lease_s=LEASE)
    assert sorted(d.message.id for d in again) == sorted(n.message.id for n in news)
    # Released parts were 'sending' and are claimed again as they are.
    assert all(p.status == "sending" for d in again for p in d.parts)


async def test_two_stores_never_claim_the_same_part(
    db_url: str, store: Store, account: Account
) -> None:
    news = [new_message(account.id, n_parts=2, created_at=T0 + i / 1000) for i in range(60)]
    await store.accept(news)
    async with open_store(db_url, migrated=False) as rival:
        seen: list[tuple[str, int]] = []
        for _ in range(10):
            rounds = await asyncio.gather(
                store.claim_due(now=T0, limit=15, lease_s=LEASE),
                rival.claim_due(now=T0, limit=15, lease_s=LEASE),
                store.claim_due(now=T0, limit=15, lease_s=LEASE),
                rival.claim_due(now=T0, limit=15, lease_s=LEASE),
            )
            seen.extend((d.message.id, p.seq) for r in rounds for d in r for p in d.parts)
    assert len(seen) == len(set(seen)) == 120


async def test_apply_lands_every_change_kind(store: Store, account: Account) -> None:
    new = new_message(account.id, n_parts=2, deliveries=())
    await store.accept([new])
    mid = new.message.id
    note = (
        new_message(account.id)
        .events[0]
        .__class__(
            message_id=mid,
            seq=1,
            status="sent",
            error_code=None,
            detail="smsc ok",
            created_at=T0 + 2,
        )
    )

    dlv = delivery(account.id, message_id=mid, at=T0 + 2, event_name="message.sent")
    await store.apply(
        [
            PartChange(
                message_id=mid,
                seq=1,
                status="sent",
                connector="smsc-a",
                smsc_id="ab12",
                attempts=1,
                submitted_at=T0 + 2,
            ),
            PartChange(message_id=mid, seq=2, status="sent", connector="smsc-a", smsc_id="ab13"),
            MessageChange(
                message_id=mid, status="sent", updated_at=T0 + 2, connector="smsc-a", sent_at=T0 + 2
            ),
            OutboxChange(message_id=mid, seq=1, due_at=None),
            OutboxChange(message_id=mid, seq=2, due_at=T0 + 99, attempts=1),
            note,
            dlv,
        ]
    )
    p1, p2 = await store.get_parts(mid)
    assert (p1.status, p1.connector, p1.smsc_id, p1.attempts, p1.submitted_at) == (
        "sent",
        "smsc-a",
        "ab12",
        1,
        T0 + 2,
    )
    # None in a change keeps what was stored (attempts 0, no submitted_at).
    assert (p2.smsc_id, p2.attempts, p2.submitted_at) == ("ab13", 0, None)
    msg = await store.get_message(mid)
    assert msg is not None
    assert (msg.status, msg.connector, msg.sent_at, msg.updated_at) == (
        "sent",
        "smsc-a",
        T0 + 2,
        T0 + 2,
    )
    async with store.engine.connect() as conn:
        queue = (await conn.execute(select(schema.outbox))).mappings().all()
    assert [(r["seq"], r["due_at"], r["attempts"], r["claimed_until"]) for r in queue] == [
        (2, T0 + 99, 1, None)
    ]
    assert (await store.get_events(mid))[-1] == note
    [stored_dlv] = await store.list_deliveries(account.id, message_id=mid)
    assert (stored_dlv.id, stored_dlv.event, stored_dlv.status) == (
        dlv.id,
        "message.sent",
        "pending",
    )

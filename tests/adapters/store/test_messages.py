"""Accepting messages (one atomic commit each), group commit, listing and counting."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import func, select

from smsgate.adapters.store import schema
from smsgate.adapters.store.store import Store
from smsgate.adapters.store.writer import WriteFailed
from smsgate.services.ids import new_id
from smsgate.services.records import Account, Batch

from .factories import T0, delivery, new_message

BINARY = [b"\x00\x01head\xff", bytes(range(256)), b"\xff\x00"]


async def _count(store: Store, table: object) -> int:
    async with store.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


async def test_accept_round_trips_message_parts_events_and_queue_rows(
    store: Store, account: Account
) -> None:
    new = new_message(
        account.id,
        payloads=BINARY,
        idempotency=("order-42", "a" * 64),
        deliveries=[delivery(account.id)],
        encoding="binary",
        reference="order 42",
        valid_until=T0 + 3600,
    )
    await store.accept([new])

    assert await store.get_message(new.message.id) == new.message
    assert await store.get_message(new.message.id, account.id) == new.message
    parts = await store.get_parts(new.message.id)
    assert parts == list(new.parts)
    assert [p.short_message for p in parts] == BINARY  # bytes exactly, NUL and 0xFF included
    assert await store.get_events(new.message.id) == list(new.events)
    assert await store.find_idempotent(account.id, "order-42") == ("a" * 64, new.message.id)
    assert await store.queue_depth() == 3
    [dlv] = await store.list_deliveries(account.id)
    assert (dlv.id, dlv.status, dlv.attempts) == (new.deliveries[0].id, "pending", 0)


async def test_lookups_miss_cleanly(store: Store, account: Account, other_account: Account) -> None:
    new = new_message(account.id)
    await store.accept([new])
    assert await store.get_message(new.message.id, other_account.id) is None
    assert await store.get_message("msg_missing") is None
    assert await store.get_parts("msg_missing") == []
    assert await store.find_idempotent(account.id, "nope") is None
    assert await store.get_messages([]) == {}
    got = await store.get_messages([new.message.id, new.message.id, "msg_missing"])
    assert got == {new.message.id: new.message}


async def test_duplicate_idempotency_key_conflicts_and_writes_nothing(
    store: Store, account: Account, other_account: Account
) -> None:
    first = new_message(account.id, idempotency=("k1", "h1"))
    await store.accept([first])
    second = new_message(account.id, n_parts=3, idempotency=("k1", "h2"), created_at=T0 + 1)
    with pytest.raises(WriteFailed) as info:
        await store.accept([second])
    assert info.value.conflict is True
    assert await store.get_message(second.message.id) is None
    assert await store.get_parts(second.message.id) == []
    assert await store.get_events(second.message.id) == []
    assert await store.queue_depth() == 1
    assert await store.find_idempotent(account.id, "k1") == ("h1", first.message.id)
    # The key is per account: another account may use it.
    theirs = new_message(other_account.id, idempotency=("k1", "h3"))
    await store.accept([theirs])
    assert await store.find_idempotent(other_account.id, "k1") == ("h3", theirs.message.id)


async def test_concurrent_accepts_share_commits(store: Store, account: Account) -> None:
    news = [new_message(account.id, created_at=T0 + i / 1000) for i in range(200)]
    batches_before = store.writer.batches
    await asyncio.gather(*(store.accept([n]) for n in news))
    used = store.writer.batches - batches_before
    assert 1 <= used < len(news) // 10
    got = await store.get_messages(n.message.id for n in news)
    assert got == {n.message.id: n.message for n in news}
    assert await store.queue_depth() == 200


async def test_one_bad_write_set_fails_only_its_caller(
    store: Store, account: Account, caplog: pytest.LogCaptureFixture
) -> None:
    taken = new_message(account.id)
    await store.accept([taken])
    # Same primary key as a stored message, but otherwise new rows.
    clash = new_message(account.id, id=taken.message.id, created_at=T0 + 5)
    good = [new_message(account.id, created_at=T0 + 1 + i / 1000) for i in range(20)]
    calls = [store.accept([n]) for n in good[:10]] + [store.accept([clash])]
    calls += [store.accept([n]) for n in good[10:]]
    with caplog.at_level(logging.WARNING, logger="smsgate.adapters.store.writer"):
        results = await asyncio.gather(*calls, return_exceptions=True)
    # The test only means something if the bad set shared a transaction with good ones.
    assert any("retrying one by one" in r.getMessage() for r in caplog.records)
    failed = [r for r in results if r is not None]
    assert len(failed) == 1
    assert isinstance(failed[0], WriteFailed)
    assert failed[0].conflict is True
    assert results[10] is failed[0]
    got = await store.get_messages(n.message.id for n in good)
    assert set(got) == {n.message.id for n in good}
    assert await store.get_message(taken.message.id) == taken.message
    assert await store.queue_depth() == 21


async def test_racing_idempotent_accepts_let_exactly_one_win(
    store: Store, account: Account
) -> None:
    racers = [
        new_message(account.id, idempotency=("same", f"h{i}"), created_at=T0 + i) for i in range(5)
    ]
    results = await asyncio.gather(*(store.accept([n]) for n in racers), return_exceptions=True)
    winners = [n for n, r in zip(racers, results, strict=True) if r is None]
    assert len(winners) == 1
    assert all(isinstance(r, WriteFailed) and r.conflict for r in results if r is not None)
    found = await store.find_idempotent(account.id, "same")
    assert found is not None
    assert found[1] == winners[0].message.id
    assert await _count(store, schema.messages) == 1


async def test_list_messages_newest_first_with_cursor_paging(
    store: Store, account: Account, other_account: Account
) -> None:
    news = [new_message(account.id, created_at=T0 + i) for i in range(7)]
    await store.accept(news)
    await store.accept([new_message(other_account.id, created_at=T0 + 3.5)])
    ids = [n.message.id for n in reversed(news)]

    pages: list[str] = []
    before = None
    while True:
        page = await store.list_messages(account.id, limit=3, before=before)
        if not page:
            break
        assert len(page) <= 3
        pages.extend(m.id for m in page)
        before = page[-1].id
    assert pages == ids


async def test_list_messages_filters(
    store: Store, account: Account, other_account: Account
) -> None:
    batch_id = new_id("bat", T0)
    a = new_message(account.id, created_at=T0, to_addr="+15550001")
    b = new_message(account.id, created_at=T0 + 10, status="delivered", batch_id=batch_id)
    c = new_message(
        account.id,
        created_at=T0 + 20,
        direction="inbound",
        status="received",
        from_addr="+15550002",
        to_addr="12345",
    )
    theirs = new_message(other_account.id, created_at=T0 + 15, to_addr="+15550001")
    await store.accept([a, b, c, theirs])

    async def ids(**filters: object) -> list[str]:
        found = await store.list_messages(account.id, limit=50, **filters)  # type: ignore[arg-type]
        return [m.id for m in found]

    assert await ids() == [c.message.id, b.message.id, a.message.id]
    assert await ids(direction="inbound") == [c.message.id]
    assert await ids(direction="outbound") == [b.message.id, a.message.id]
    assert await ids(status="delivered") == [b.message.id]
    assert await ids(to_addr="+15550001") == [a.message.id]
    assert await ids(from_addr="+15550002") == [c.message.id]
    assert await ids(since=T0 + 10) == [c.message.id, b.message.id]
    assert await ids(until=T0 + 10) == [a.message.id]
    assert await ids(since=T0 + 5, until=T0 + 15) == [b.message.id]
    assert await ids(batch_id=batch_id) == [b.message.id]
    assert await ids(status="queued", to_addr="+15550001") == [a.message.id]
    assert await ids(status="failed") == []
    assert [m.id for m in await store.list_messages(other_account.id, limit=50)] == [
        theirs.message.id
    ]


async def test_batch_and_count_by_status(
    store: Store, account: Account, other_account: Account
) -> None:
    batch = Batch(
        id=new_id("bat", T0), account_id=account.id, total=3, reference="x", created_at=T0
    )
    members = [
        new_message(account.id, batch_id=batch.id, created_at=T0 + i, status=s)
        for i, s in enumerate(["queued", "queued", "rejected"])
    ]
    await store.accept(members, batch=batch)
    await store.accept([new_message(account.id, created_at=T0 + 9, status="delivered")])
    await store.accept([new_message(other_account.id, status="queued")])

    assert await store.get_batch(batch.id, account.id) == batch
    assert await store.get_batch(batch.id, other_account.id) is None
    assert await store.count_by_status(account.id, batch_id=batch.id) == {
        "queued": 2,
        "rejected": 1,
    }
    assert await store.count_by_status(account.id) == {"queued": 2, "rejected": 1, "delivered": 1}
    assert await store.count_by_status(other_account.id) == {"queued": 1}
    assert await store.count_by_status(account.id, batch_id="bat_none") == {}


async def test_stop_commits_what_was_queued_then_refuses_writes(
    store: Store, account: Account
) -> None:
    news = [new_message(account.id, created_at=T0 + i / 1000) for i in range(30)]
    pending = [asyncio.ensure_future(store.accept([n])) for n in news]
    await asyncio.sleep(0)  # one loop turn: every task queues its write set
    await store.stop()
    await asyncio.gather(*pending)
    assert len(await store.get_messages(n.message.id for n in news)) == 30
    with pytest.raises(RuntimeError, match="not running"):
        await store.accept([new_message(account.id)])

"""Messages handed to the dispatcher from memory (services/ports.py Handoff): stored exactly
as a claim would leave them, never claimed again, released by a restart, not cancelable,
bounded by the dispatcher's room, and never ahead of a message that had to be queued."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from smsgate.adapters.store import schema
from smsgate.adapters.store.store import Store
from smsgate.domain.routing import Route
from smsgate.services.errors import Conflict
from smsgate.services.messages import SendRequest

from .rig import MakeRig, Rig, ScriptedConnector, rig_maker

LEASE_S = 60.0  # the Dispatcher's default


@pytest.fixture
async def make(tmp_path: Path) -> AsyncIterator[MakeRig]:
    async with rig_maker(tmp_path, handoff=True) as maker:
        yield maker


async def _outbox(store: Store, message_id: str) -> list[tuple[float, float | None, int]]:
    o = schema.outbox.c
    async with store.engine.connect() as conn:
        rows = await conn.execute(
            select(o.due_at, o.claimed_until, o.attempts)
            .where(o.message_id == message_id)
            .order_by(o.seq)
        )
        return [(r.due_at, r.claimed_until, r.attempts) for r in rows]


async def _until(rig: Rig, predicate: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not predicate():
            await rig.dispatcher_settled()


async def _held_rig(make: MakeRig, **kw: object) -> tuple[Rig, ScriptedConnector]:
    a = ScriptedConnector("a", hold=asyncio.Event())
    rig = await make({"a": a}, [Route(connectors=("a",))], **kw)
    await rig.dispatcher_settled()  # the first claim: the queue is known to be empty
    return rig, a


async def test_a_handed_off_message_is_stored_as_a_claim_leaves_it(make: MakeRig) -> None:
    rig, a = await _held_rig(make)
    now = rig.clock.now()
    mid = await rig.send(text="z" * 200)  # two parts
    await _until(rig, lambda: len(a.seen) == 2)
    assert rig.dispatcher.handed_off == 2
    message = await rig.store.get_message(mid)
    assert message is not None
    assert (message.status, message.updated_at) == ("sending", now)
    assert [p.status for p in await rig.store.get_parts(mid)] == ["sending", "sending"]
    lease_end = now + LEASE_S
    assert await _outbox(rig.store, mid) == [(lease_end, lease_end, 0), (lease_end, lease_end, 0)]
    # Acceptance is still recorded as queued; a claim writes no event of its own either.
    assert [e.status for e in await rig.store.get_events(mid)] == ["queued"]
    assert a.hold is not None
    a.hold.set()
    assert await rig.wait_status(mid, "sent") == "sent"
    assert await _outbox(rig.store, mid) == []
    assert [e.status for e in await rig.store.get_events(mid)] == ["queued", "sent"]


async def test_a_handed_off_message_is_not_claimed_again(make: MakeRig) -> None:
    rig, a = await _held_rig(make)
    mid = await rig.send()
    await _until(rig, lambda: len(a.seen) == 1)
    for later in (0.0, 1.0, LEASE_S - 1):
        claimed = await rig.store.claim_due(now=rig.clock.now() + later, limit=10, lease_s=1)
        assert claimed == []
    for _ in range(5):
        await rig.dispatcher_settled()
    assert len(a.seen) == 1
    assert a.hold is not None
    a.hold.set()
    await rig.wait_status(mid, "sent")
    assert len(a.seen) == 1


async def test_a_restart_releases_a_handed_off_message(make: MakeRig) -> None:
    rig, a = await _held_rig(make)
    mid = await rig.send()
    await _until(rig, lambda: len(a.seen) == 1)
    # A crash now: the next start makes what this node held due again, and it is claimed.
    assert await rig.store.release_claims(now=rig.clock.now()) == 1
    [again] = await rig.store.claim_due(now=rig.clock.now(), limit=10, lease_s=LEASE_S)
    assert again.message.id == mid
    assert again.message.status == "sending"
    assert [p.status for p in again.parts] == ["sending"]
    assert a.hold is not None
    a.hold.set()


async def test_a_handed_off_message_cannot_be_canceled_or_replaced(make: MakeRig) -> None:
    rig, a = await _held_rig(make)
    mid = await rig.send()
    await _until(rig, lambda: len(a.seen) == 1)
    with pytest.raises(Conflict):
        await rig.messages.cancel(rig.account, mid)
    parts = await rig.store.get_parts(mid)
    replaced = await rig.store.replace_scheduled(
        mid, text="new", encoding="gsm7", parts=parts, due_at=rig.clock.now(), now=rig.clock.now()
    )
    assert replaced is False
    assert a.hold is not None
    a.hold.set()
    assert await rig.wait_status(mid, "sent") == "sent"


async def test_scheduled_messages_go_through_the_queue(make: MakeRig) -> None:
    rig, a = await _held_rig(make)
    req = SendRequest(to="+359888123456", sender="ACME", text="later", send_at=rig.clock.now() + 60)
    message, _ = await rig.messages.send(rig.account, req)
    await rig.dispatcher_settled()
    assert rig.dispatcher.handed_off == 0
    assert await rig.status_of(message.id) == "scheduled"
    assert await _outbox(rig.store, message.id) == [(rig.clock.now() + 60, None, 0)]
    # Still cancelable, as before.
    await rig.messages.cancel(rig.account, message.id)
    assert await rig.status_of(message.id) == "canceled"
    assert a.seen == []


async def test_the_room_is_bounded_and_queued_messages_keep_their_turn(make: MakeRig) -> None:
    rig, a = await _held_rig(make, max_in_flight=1)
    first = await rig.send(text="first")
    await _until(rig, lambda: len(a.seen) == 1)
    # No room: these are queued, and a claim takes them when the first is done.
    second = await rig.send(text="second")
    third = await rig.send(text="third")
    assert await rig.status_of(second) == "queued"
    assert await _outbox(rig.store, second) == [(rig.clock.now(), None, 0)]
    assert rig.dispatcher.handed_off == 1
    assert a.hold is not None
    a.hold.set()
    for mid in (first, second, third):
        await rig.wait_status(mid, "sent")
    assert [p.short_message for p in a.seen] == [b"first", b"second", b"third"]
    assert rig.dispatcher.in_flight == 0


async def test_a_hand_off_never_overtakes_a_queued_message(make: MakeRig) -> None:
    a = ScriptedConnector("a")
    # No polling: only a wake makes the dispatcher claim.
    rig = await make({"a": a}, [Route(connectors=("a",))], poll_s=3600)
    await rig.dispatcher_settled()
    a.up = False
    queued = await rig.send(text="queued while the link was down")
    assert await rig.status_of(queued) == "queued"
    a.up = True  # nothing claimed the queued one yet
    # The dispatcher has room for this one, which waits until a claim took the queued one.
    fresh = await rig.send(text="fresh")
    for mid in (queued, fresh):
        await rig.wait_status(mid, "sent")
    assert [p.short_message for p in a.seen] == [b"queued while the link was down", b"fresh"]
    assert rig.dispatcher.handed_off == 1


async def test_a_failed_commit_gives_the_room_back(make: MakeRig) -> None:
    rig, a = await _held_rig(make, max_in_flight=1)
    req = SendRequest(to="+359888123456", sender="ACME", text="once")
    await rig.messages.send(rig.account, req, idempotency_key="k")
    await _until(rig, lambda: len(a.seen) == 1)
    assert a.hold is not None
    a.hold.set()
    await _until(rig, lambda: rig.dispatcher.in_flight == 0)
    # A second commit of the same key fails on the unique key, then replays the first.
    same = rig.messages.build(rig.account, req, rig.clock.now(), idempotency=("k", "x"))
    with pytest.raises(Exception, match="refused"):
        await rig.messages.commit(same)
    later = await rig.send(text="later")
    await rig.wait_status(later, "sent")
    assert rig.dispatcher.handed_off == 2


async def test_a_hand_off_that_waits_too_long_goes_back_to_the_queue_in_its_turn(
    make: MakeRig,
) -> None:
    # Room for two parts; a waiting hand-off goes back to the queue after a quarter of its
    # lease (here 0.05 s), so its lease never runs out while it waits.
    rig, a = await _held_rig(make, max_in_flight=2, lease_s=0.2)
    first = await rig.send(text="first")  # handed off, held by the SMSC
    await _until(rig, lambda: len(a.seen) == 1)
    a.up = False
    rig.clock.t += 0.01
    second = await rig.send(text="second")  # no link: queued
    a.up = True
    rig.clock.t += 0.01
    third = await rig.send(text="third")  # handed off, waits for the second's claim
    lease_end = rig.clock.now() + 0.2
    # The room is full (first in flight, third waiting): no claim can take the second,
    # until the third has waited a quarter of its lease (the dispatcher's monotonic clock).
    await rig.dispatcher_settled()
    assert await _outbox(rig.store, third) == [(lease_end, lease_end, 0)]
    rig.clock.mono += 0.051
    await rig.dispatcher_settled()
    assert await _outbox(rig.store, third) == [(rig.clock.now(), None, 0)]
    assert a.hold is not None
    a.hold.set()
    for mid in (first, second, third):
        await rig.wait_status(mid, "sent")
    assert [p.short_message for p in a.seen] == [b"first", b"second", b"third"]
    assert rig.dispatcher.handed_off == 1


async def test_stopping_queues_waiting_hand_offs(make: MakeRig) -> None:
    rig, a = await _held_rig(make, max_in_flight=2)
    await rig.send(text="first")
    await _until(rig, lambda: len(a.seen) == 1)
    a.up = False
    rig.clock.t += 0.01
    await rig.send(text="second")
    a.up = True
    rig.clock.t += 0.01
    third = await rig.send(text="third")
    lease_end = rig.clock.now() + LEASE_S
    assert await _outbox(rig.store, third) == [(lease_end, lease_end, 0)]
    await rig.dispatcher.stop(drain_s=0)
    # No longer held by a node that stopped: due again for whoever claims next.
    assert await _outbox(rig.store, third) == [(rig.clock.now(), None, 0)]
    assert [p.short_message for p in a.seen] == [b"first"]

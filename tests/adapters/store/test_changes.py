"""Status changes: the final-status guard, coalescing, receipt look-ups, cancel and expiry."""

from __future__ import annotations

from smsgate.adapters.store.store import Store
from smsgate.services.records import Account, MessageChange, PartChange

from .factories import T0, new_message


async def test_a_late_sent_never_overwrites_a_final_status(store: Store, account: Account) -> None:
    new = new_message(account.id, n_parts=2)
    await store.accept([new])
    mid = new.message.id
    # The receipt committed before the submit_sm_resp result (a race the guard exists for).
    await store.apply(
        [
            PartChange(message_id=mid, seq=1, status="delivered", done_at=T0 + 3),
            PartChange(
                message_id=mid,
                seq=2,
                status="undelivered",
                error_code="UNDELIV:001",
                done_at=T0 + 3,
            ),
            MessageChange(
                message_id=mid,
                status="undelivered",
                updated_at=T0 + 3,
                error_code="UNDELIV:001",
                error_message="handset unreachable",
                delivered_at=None,
            ),
        ]
    )
    await store.apply(
        [
            PartChange(message_id=mid, seq=1, status="sent", smsc_id="x1", submitted_at=T0 + 2),
            PartChange(message_id=mid, seq=2, status="sent", smsc_id="x2", submitted_at=T0 + 2),
            MessageChange(message_id=mid, status="sent", updated_at=T0 + 4, sent_at=T0 + 2),
        ]
    )
    p1, p2 = await store.get_parts(mid)
    assert (p1.status, p1.smsc_id, p1.submitted_at, p1.done_at) == (
        "delivered",
        "x1",
        T0 + 2,
        T0 + 3,
    )
    # The error that came with the final status stays with it.
    assert (p2.status, p2.error_code) == ("undelivered", "UNDELIV:001")
    msg = await store.get_message(mid)
    assert msg is not None
    assert (msg.status, msg.error_code, msg.error_message, msg.sent_at) == (
        "undelivered",
        "UNDELIV:001",
        "handset unreachable",
        T0 + 2,
    )


async def test_delivered_message_stays_delivered(store: Store, account: Account) -> None:
    new = new_message(account.id)
    await store.accept([new])
    mid = new.message.id
    await store.apply(
        [MessageChange(message_id=mid, status="delivered", updated_at=T0 + 5, delivered_at=T0 + 5)]
    )
    await store.apply([MessageChange(message_id=mid, status="sent", updated_at=T0 + 6)])
    msg = await store.get_message(mid)
    assert msg is not None
    assert (msg.status, msg.delivered_at) == ("delivered", T0 + 5)


async def test_non_final_statuses_move_on_and_none_keeps_stored_values(
    store: Store, account: Account
) -> None:
    new = new_message(account.id)
    await store.accept([new])
    mid = new.message.id
    await store.apply(
        [
            PartChange(
                message_id=mid,
                seq=1,
                status="sent",
                connector="smsc-a",
                smsc_id="5f00",
                attempts=1,
                submitted_at=T0 + 1,
            ),
            MessageChange(
                message_id=mid, status="sent", updated_at=T0 + 1, connector="smsc-a", sent_at=T0 + 1
            ),
        ]
    )
    # The receipt's change carries only what it knows.
    await store.apply(
        [
            PartChange(message_id=mid, seq=1, status="delivered", done_at=T0 + 9),
            MessageChange(
                message_id=mid, status="delivered", updated_at=T0 + 9, delivered_at=T0 + 9
            ),
        ]
    )
    [part] = await store.get_parts(mid)
    assert (part.status, part.connector, part.smsc_id, part.attempts) == (
        "delivered",
        "smsc-a",
        "5f00",
        1,
    )
    assert (part.submitted_at, part.done_at) == (T0 + 1, T0 + 9)
    msg = await store.get_message(mid)
    assert msg is not None
    assert (msg.status, msg.connector, msg.sent_at, msg.delivered_at, msg.updated_at) == (
        "delivered",
        "smsc-a",
        T0 + 1,
        T0 + 9,
        T0 + 9,
    )


async def test_first_sent_at_is_kept(store: Store, account: Account) -> None:
    new = new_message(account.id)
    await store.accept([new])
    mid = new.message.id
    await store.apply([MessageChange(message_id=mid, status="sent", updated_at=1, sent_at=T0 + 1)])
    await store.apply([MessageChange(message_id=mid, status="sent", updated_at=2, sent_at=T0 + 7)])
    msg = await store.get_message(mid)
    assert msg is not None
    assert msg.sent_at == T0 + 1


async def test_part_by_smsc_matches_connector_and_any_candidate(
    store: Store, account: Account
) -> None:
    new = new_message(account.id, n_parts=2)
    await store.accept([new])
    mid = new.message.id
    await store.apply(
        [
            PartChange(message_id=mid, seq=1, status="sent", connector="a", smsc_id="00ff"),
            PartChange(message_id=mid, seq=2, status="sent", connector="b", smsc_id="00ff"),
        ]
    )
    found = await store.part_by_smsc("a", ["255", "00ff", "ff"])
    assert found is not None
    assert (found.message_id, found.seq) == (mid, 1)
    found = await store.part_by_smsc("b", ["00ff"])
    assert found is not None
    assert found.seq == 2
    assert await store.part_by_smsc("c", ["00ff"]) is None
    assert await store.part_by_smsc("a", ["255"]) is None
    assert await store.part_by_smsc("a", []) is None


async def test_cancel_unclaimed_removes_queue_rows(store: Store, account: Account) -> None:
    keep = new_message(account.id, created_at=T0 + 1)
    new = new_message(account.id, n_parts=3, due_at=T0 + 600, status="scheduled")
    await store.accept([keep, new])
    assert await store.cancel_unclaimed(new.message.id, now=T0) is True
    assert await store.queue_depth() == 1
    # Nothing left to cancel.
    assert await store.cancel_unclaimed(new.message.id, now=T0) is False
    assert await store.cancel_unclaimed("msg_missing", now=T0) is False


async def test_cancel_unclaimed_refuses_while_a_part_is_claimed(
    store: Store, account: Account
) -> None:
    new = new_message(account.id, n_parts=3)
    await store.accept([new])
    await store.claim_due(now=T0, limit=1, lease_s=30)  # a worker holds part 1
    assert await store.cancel_unclaimed(new.message.id, now=T0 + 1) is False
    assert await store.queue_depth() == 3  # all or nothing
    # Once the lease has run out the worker is presumed dead: cancelling may proceed.
    assert await store.cancel_unclaimed(new.message.id, now=T0 + 31) is True
    assert await store.queue_depth() == 0


async def test_expired_in_flight_finds_only_sent_messages_past_validity(
    store: Store, account: Account
) -> None:
    sent_expired = new_message(account.id, status="sent", valid_until=T0 + 10)
    sent_valid = new_message(account.id, status="sent", valid_until=T0 + 100, created_at=T0 + 1)
    sent_forever = new_message(account.id, status="sent", created_at=T0 + 2)
    delivered = new_message(account.id, status="delivered", valid_until=T0 + 10, created_at=T0 + 3)
    queued = new_message(account.id, status="queued", valid_until=T0 + 10, created_at=T0 + 4)
    await store.accept([sent_expired, sent_valid, sent_forever, delivered, queued])

    found = await store.expired_in_flight(now=T0 + 50, limit=10)
    assert [m.id for m in found] == [sent_expired.message.id]
    assert await store.expired_in_flight(now=T0 + 10, limit=10) == []
    later = await store.expired_in_flight(now=T0 + 101, limit=10)
    assert {m.id for m in later} == {sent_expired.message.id, sent_valid.message.id}
    assert len(await store.expired_in_flight(now=T0 + 101, limit=1)) == 1

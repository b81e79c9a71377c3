"""InboundService on a real database: parts survive a restart, incomplete sets are stored
flagged after the timeout, and the sweep finishes sets a crash left complete."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from smsgate.adapters.store.store import Store
from smsgate.adapters.store.two_way import TwoWayStore
from smsgate.services.ids import new_id
from smsgate.services.inbound import InboundService
from smsgate.services.messages import SendRequest
from smsgate.services.ports import InboundEvent
from smsgate.services.records import Account, Message
from smsgate.services.two_way import TwoWayService
from smsgate.services.two_way_records import Number, PartKey
from tests.adapters.store.factories import T0, open_store

OURS = "+35924001234"
TIMEOUT = 600.0


@dataclass
class Clock:
    t: float = T0

    def now(self) -> float:
        return self.t


@dataclass
class Replies:
    sent: list[tuple[str, SendRequest]] = field(default_factory=list)

    async def __call__(self, account: Account, req: SendRequest) -> tuple[Message, bool]:
        self.sent.append((account.id, req))
        raise _NoSend


class _NoSend(Exception):
    pass


def part(seq: int, text: str, *, total: int = 3, ref: int = 42) -> InboundEvent:
    return InboundEvent(
        connector="sim",
        source="359888123456",
        source_ton=1,
        destination="35924001234",
        dest_ton=1,
        text=text,
        data_coding=0,
        concat=(ref, total, seq),
        received_at=datetime.now(UTC),
    )


def service(store: Store, clock: Clock, replies: Replies) -> tuple[InboundService, TwoWayStore]:
    repo = TwoWayStore(store)
    two_way = TwoWayService(store, repo, clock, send=replies)
    return InboundService(repo, clock, two_way, reassembly_timeout_s=TIMEOUT), repo


async def _setup(store: Store) -> Account:
    account = await store.create_account(name="clinic", now=T0)
    await TwoWayStore(store).create_number(
        Number(
            id=new_id("num", T0),
            number=OURS,
            kind="long",
            account_id=account.id,
            shared=False,
            description="",
            created_at=T0,
        )
    )
    return account


async def test_parts_survive_a_restart(db_url: str) -> None:
    clock, replies = Clock(), Replies()
    async with open_store(db_url) as store:
        account = await _setup(store)
        inbound, _ = service(store, clock, replies)
        await inbound.on_inbound(part(2, "world, "))
        await inbound.on_inbound(part(1, "Hello "))
        assert await store.list_messages(account.id, limit=10) == []
    # A new process: the two acknowledged parts are in the database.
    async with open_store(db_url) as store:
        inbound, repo = service(store, clock, replies)
        await inbound.on_inbound(part(3, "again!"))
        await inbound.on_inbound(part(3, "again!"))  # a late duplicate of the last part
        [msg] = await store.list_messages(account.id, limit=10)
        assert (msg.text, msg.parts, msg.status, msg.error_code) == (
            "Hello world, again!",
            3,
            "received",
            None,
        )
        assert inbound.duplicates == 1
        assert await repo.pending_parts(older_than=None) == []


async def test_incomplete_sets_are_stored_flagged_after_the_timeout(db_url: str) -> None:
    clock, replies = Clock(), Replies()
    async with open_store(db_url) as store:
        account = await _setup(store)
        inbound, repo = service(store, clock, replies)
        await inbound.on_inbound(part(1, "only the first "))
        await inbound.on_inbound(part(3, "and the last"))
        clock.t += TIMEOUT - 1
        assert await inbound.sweep() == 0
        clock.t += 2
        assert await inbound.sweep() == 1
        [msg] = await store.list_messages(account.id, limit=10)
        assert msg.text == "only the first and the last"
        assert msg.error_code == "incomplete"
        assert inbound.incomplete == 1
        # The missing part turns up later: a duplicate of a stored message, not a new one.
        await inbound.on_inbound(part(2, "middle "))
        assert len(await store.list_messages(account.id, limit=10)) == 1
        clock.t += TIMEOUT + 1
        await inbound.sweep()
        assert await repo.count_parts() == 0  # forgotten after the timeout


async def test_sweep_finishes_a_complete_set_left_by_a_crash(db_url: str) -> None:
    clock, replies = Clock(), Replies()
    async with open_store(db_url) as store:
        account = await _setup(store)
        repo = TwoWayStore(store)
        # Both parts committed, but the process died before storing the message.
        key = PartKey(
            connector="sim", source="359888123456", destination="35924001234", ref=42, total=2
        )
        await repo.add_part(key, 1, "fi", 0, now=T0)
        await repo.add_part(key, 2, "ne", 0, now=T0)
        inbound, _ = service(store, clock, replies)
        await inbound.sweep()  # the start-up sweep
        assert [m.text for m in await store.list_messages(account.id, limit=10)] == ["fine"]


async def test_unowned_concatenated_message_is_kept_unrouted(db_url: str) -> None:
    clock, replies = Clock(), Replies()
    async with open_store(db_url) as store:
        inbound, repo = service(store, clock, replies)
        for seq, text in ((1, "a"), (2, "b"), (3, "c")):
            await inbound.on_inbound(part(seq, text))
        [entry] = await repo.list_unrouted(limit=10)
        assert (entry.text, entry.reason, entry.destination) == ("abc", "no_number", OURS)


async def test_nonsense_concat_info_is_a_whole_message_and_replies_failing_is_not_fatal(
    db_url: str,
) -> None:
    clock, replies = Clock(), Replies()
    async with open_store(db_url) as store:
        account = await _setup(store)
        inbound, _ = service(store, clock, replies)
        await inbound.on_inbound(part(5, "HELP", total=3))  # seq beyond total
        [msg] = await store.list_messages(account.id, limit=10)
        assert msg.text == "HELP"
        assert [req.to for _, req in replies.sent] == ["+359888123456"]

"""The two-way repository on a real database: numbers, rules, opt-outs, conversations, parts."""

from __future__ import annotations

import pytest

from smsgate.adapters.store.store import Store
from smsgate.adapters.store.two_way import TwoWayStore
from smsgate.services.errors import Conflict
from smsgate.services.ids import new_id
from smsgate.services.records import Account, Message, StatusEvent
from smsgate.services.two_way_records import (
    KeywordRule,
    Number,
    OptOut,
    PartKey,
    Received,
    Unrouted,
)
from tests.adapters.store.factories import T0, message, new_message

PEER = "+359888123456"
OURS = "+35924001234"
KEY = PartKey(connector="sim", source="359888123456", destination="35924001234", ref=7, total=3)


def number(account_id: str, value: str = OURS, *, shared: bool = False) -> Number:
    return Number(
        id=new_id("num", T0),
        number=value,
        kind="short" if len(value) <= 8 else "long",
        account_id=account_id,
        shared=shared,
        description="",
        created_at=T0,
    )


def rule(num: Number, keyword: str, **fields: object) -> KeywordRule:
    values: dict[str, object] = {
        "id": new_id("kw", T0),
        "account_id": num.account_id,
        "number_id": num.id,
        "number": num.number,
        "keyword": keyword,
        "display": keyword.upper(),
        "action": "reply",
        "reply_text": "hi",
        "forward_url": None,
        "created_at": T0,
    }
    values.update(fields)
    return KeywordRule(**values)  # type: ignore[arg-type]


def inbound(account_id: str, text: str, *, at: float = T0, peer: str = PEER) -> Received:
    msg = message(
        account_id,
        created_at=at,
        direction="inbound",
        to_addr=OURS,
        from_addr=peer,
        text=text,
        status="received",
    )
    event = StatusEvent(
        message_id=msg.id, seq=None, status="received", error_code=None, detail=None, created_at=at
    )
    return Received(message=msg, deliveries=(), changes=(event,))


async def test_numbers_exclusive_and_shared(
    repo: TwoWayStore, account: Account, other_account: Account
) -> None:
    mine = await repo.create_number(number(account.id))
    with pytest.raises(Conflict):
        await repo.create_number(number(other_account.id))
    with pytest.raises(Conflict):
        await repo.create_number(number(account.id))
    a = await repo.create_number(number(account.id, "4444", shared=True))
    b = await repo.create_number(number(other_account.id, "4444", shared=True))
    await repo.create_number(number(account.id, "5555", shared=True))
    with pytest.raises(Conflict):  # a shared code cannot also be exclusive
        await repo.create_number(number(other_account.id, "5555"))
    assert [n.id for n in await repo.numbers_for("4444")] == [a.id, b.id]
    assert {n.number for n in await repo.list_numbers(account.id)} == {OURS, "4444", "5555"}
    assert len(await repo.list_numbers(None)) == 4
    assert await repo.get_number(mine.id, other_account.id) is None
    assert await repo.get_number(mine.id, account.id) == mine
    await repo.create_rule(rule(mine, "hours"))
    assert await repo.delete_number(mine.id) is True
    assert await repo.rules_for(OURS) == []
    assert await repo.delete_number(mine.id) is False


async def test_keyword_rules_are_unique_per_number_across_accounts(
    repo: TwoWayStore, account: Account, other_account: Account
) -> None:
    a = await repo.create_number(number(account.id, "4444", shared=True))
    b = await repo.create_number(number(other_account.id, "4444", shared=True))
    pizza = await repo.create_rule(rule(a, "pizza"))
    with pytest.raises(Conflict):
        await repo.create_rule(rule(b, "pizza"))
    cafe = await repo.create_rule(rule(b, "cafe"))
    assert {r.keyword for r in await repo.rules_for("4444")} == {"pizza", "cafe"}
    assert await repo.list_rules(account.id) == [pizza]
    assert await repo.list_rules(other_account.id, number="4444") == [cafe]
    assert await repo.get_rule(other_account.id, pizza.id) is None
    assert await repo.delete_rule(other_account.id, pizza.id) is False
    assert await repo.delete_rule(account.id, pizza.id) is True


async def test_suppression_list(
    repo: TwoWayStore, account: Account, other_account: Account
) -> None:
    entry = OptOut(account_id=account.id, number=PEER, source="api", keyword=None, created_at=T0)
    assert await repo.add_optout(entry) is True
    assert await repo.add_optout(entry) is False
    assert await repo.is_suppressed(account.id, PEER)
    assert not await repo.is_suppressed(other_account.id, PEER)
    many = [f"+35988800{i:04d}" for i in range(1200)]
    assert await repo.suppressed(account.id, [*many, PEER]) == {PEER}
    assert await repo.suppressed(account.id, []) == set()
    assert await repo.get_optout(account.id, PEER) == entry
    assert await repo.list_optouts(account.id, limit=10) == [entry]
    assert await repo.list_optouts(account.id, limit=10, after=PEER) == []
    assert await repo.remove_optout(other_account.id, PEER) is False
    assert await repo.remove_optout(account.id, PEER) is True
    assert not await repo.is_suppressed(account.id, PEER)


async def test_parts_are_committed_one_by_one_and_finished_once(
    repo: TwoWayStore, account: Account
) -> None:
    first = await repo.add_part(KEY, 3, "c", 0, now=T0)
    assert first is not None
    assert (first.complete, first.texts) == (False, {3: "c"})
    again = await repo.add_part(KEY, 3, "c", 0, now=T0 + 1)  # a duplicate changes nothing
    assert again is not None
    assert again.texts == {3: "c"}
    await repo.add_part(KEY, 1, "a", 0, now=T0 + 2)
    done = await repo.add_part(KEY, 2, "b", 0, now=T0 + 3)
    assert done is not None
    assert done.complete
    assert done.joined() == "abc"
    assert done.first_at == T0
    received = inbound(account.id, "abc", at=T0 + 3)
    assert await repo.finish_parts(KEY, [received], None, now=T0 + 3) is True
    assert await repo.finish_parts(KEY, [inbound(account.id, "abc")], None, now=T0 + 3) is False
    assert await repo.add_part(KEY, 2, "b", 0, now=T0 + 4) is None  # late duplicate
    assert await repo.pending_parts(older_than=None) == []
    thread = await repo.thread(account.id, OURS, PEER, limit=10)
    assert [m.text for m in thread] == ["abc"]
    assert await repo.purge_parts(before=T0 + 1) == 1  # the part of T0 only
    assert await repo.count_parts() == 2


async def test_pending_parts_by_age(repo: TwoWayStore) -> None:
    other = PartKey(connector="sim", source="1", destination="2", ref=1, total=2)
    await repo.add_part(KEY, 1, "a", 8, now=T0)
    await repo.add_part(other, 2, "z", 0, now=T0 + 100)
    old = await repo.pending_parts(older_than=T0 + 50)
    assert [(p.key, p.texts, p.data_coding) for p in old] == [(KEY, {1: "a"}, 8)]
    assert len(await repo.pending_parts(older_than=None)) == 2


async def test_received_messages_make_conversations(
    store: Store, repo: TwoWayStore, account: Account, other_account: Account
) -> None:
    one = inbound(account.id, "one", at=T0)
    stop = OptOut(
        account_id=account.id, number=PEER, source="keyword", keyword="stop", created_at=T0
    )
    await repo.store_received([one], None)
    two = Received(
        message=inbound(account.id, "STOP", at=T0 + 1).message, deliveries=(), optout=stop
    )
    unrouted = Unrouted(
        id=new_id("unr", T0),
        connector="sim",
        source=PEER,
        destination="+35924009999",
        text="lost?",
        reason="no_number",
        error_code=None,
        received_at=T0,
    )
    await repo.store_received([two], unrouted)
    assert await repo.is_suppressed(account.id, PEER)
    assert [u.text for u in await repo.list_unrouted(limit=10)] == ["lost?"]
    [conv] = await repo.list_conversations(account.id, limit=10)
    assert (conv.number, conv.peer, conv.unread, conv.last_text) == (OURS, PEER, 2, "STOP")
    assert await repo.list_conversations(other_account.id, limit=10) == []
    reply: Message = message(
        account.id, created_at=T0 + 2, from_addr=OURS, to_addr=PEER, text="bye", status="queued"
    )
    await store.accept([new_message(account.id, **_fields(reply))])
    await repo.note_outbound(reply, now=T0 + 2)
    conv2 = await repo.find_conversation(account.id, PEER)
    assert conv2 is not None
    assert (conv2.last_direction, conv2.last_text, conv2.unread) == ("outbound", "bye", 2)
    await repo.mark_read(conv2.id, now=T0 + 3)
    conv3 = await repo.find_conversation(account.id, PEER, number=OURS)
    assert conv3 is not None
    assert (conv3.unread, conv3.read_at) == (0, T0 + 3)
    thread = await repo.thread(account.id, OURS, PEER, limit=10)
    assert [m.text for m in thread] == ["bye", "STOP", "one"]
    older = await repo.thread(account.id, OURS, PEER, limit=10, before=thread[0].id)
    assert [m.text for m in older] == ["STOP", "one"]
    optin = Received(
        message=inbound(account.id, "START", at=T0 + 4).message, deliveries=(), optin=PEER
    )
    await repo.store_received([optin], None)
    assert not await repo.is_suppressed(account.id, PEER)
    assert await repo.find_conversation(other_account.id, PEER) is None


def _fields(m: Message) -> dict[str, object]:
    return {
        "created_at": m.created_at,
        "from_addr": m.from_addr,
        "to_addr": m.to_addr,
        "text": m.text,
        "status": m.status,
        "id": m.id,
    }

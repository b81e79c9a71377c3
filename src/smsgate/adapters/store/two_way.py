"""Persistence of two-way messaging: numbers, keyword rules, the suppression list,
conversations, pending inbound parts and unrouted messages.

Built on the `Store`'s engine and its one `Writer`, so inbound messages are group-committed
with everything else. Read-then-write steps (a part's arrival, a conversation's upsert, a
number's assignment) run as writer jobs: one transaction, serialised with every other write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from smsgate.adapters.store import schema as t
from smsgate.adapters.store.cache import TtlCache
from smsgate.adapters.store.store import Store, build_write_set
from smsgate.adapters.store.writer import WriteSet, apply
from smsgate.services.errors import Conflict, StoreConflict
from smsgate.services.records import Message
from smsgate.services.two_way_records import (
    Conversation,
    KeywordRule,
    Number,
    OptOut,
    PartKey,
    PendingParts,
    Received,
    Unrouted,
)

OWNERS_CACHE_S = 5.0


def _row(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}


def _key_filter(key: PartKey) -> Any:
    c = t.inbound_parts.c
    return and_(
        c.connector == key.connector,
        c.source == key.source,
        c.destination == key.destination,
        c.ref == key.ref,
        c.total == key.total,
    )


def _pending(key: PartKey, rows: Sequence[Mapping[Any, Any]]) -> PendingParts:
    return PendingParts(
        key=key,
        texts={r["seq"]: r["text"] for r in rows},
        data_coding=rows[0]["data_coding"] if rows else 0,
        first_at=min((r["received_at"] for r in rows), default=0.0),
    )


class TwoWayStore:
    """The two-way tables; one per process, sharing the `Store`'s engine and writer."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.engine = store.engine
        self.writer = store.writer
        # number → the accounts holding it, for the sender check of every send.
        self._owners: TtlCache[str, frozenset[str]] = TtlCache(ttl_s=OWNERS_CACHE_S)

    async def _read(self, stmt: Any) -> list[RowMapping]:
        async with self.engine.connect() as conn:
            conn.sync_connection.info["read_only"] = True  # type: ignore[union-attr]
            rows = list((await conn.execute(stmt)).mappings())
            await conn.rollback()
            return rows

    async def _rowcount(self, stmt: Any) -> int:
        def job(conn: Connection) -> int:
            return int(conn.execute(stmt).rowcount or 0)

        count: int = await self.writer.run(job)
        return count

    # ---- numbers -------------------------------------------------------------------------

    async def create_number(self, number: Number) -> Number:
        """Assign a number; raises Conflict when another account holds it exclusively, when
        it is shared and an exclusive assignment is asked (or the reverse), or twice."""

        def job(conn: Connection) -> str | None:
            rows = conn.execute(select(t.numbers).where(t.numbers.c.number == number.number))
            existing = list(rows.mappings())
            if any(r["account_id"] == number.account_id for r in existing):
                return "this account has this number already"
            if existing and not (number.shared and all(r["shared"] for r in existing)):
                return "the number is assigned to another account"
            conn.execute(t.numbers.insert(), _row(number))
            return None

        refusal: str | None = await self.writer.run(job)
        if refusal is not None:
            raise Conflict(refusal, field="number")
        self._owners.invalidate(number.number)
        return number

    async def list_numbers(self, account_id: str | None) -> list[Number]:
        stmt = select(t.numbers).order_by(t.numbers.c.id)
        if account_id is not None:
            stmt = stmt.where(t.numbers.c.account_id == account_id)
        return [Number(**r) for r in await self._read(stmt)]

    async def get_number(self, number_id: str, account_id: str | None) -> Number | None:
        stmt = select(t.numbers).where(t.numbers.c.id == number_id)
        if account_id is not None:
            stmt = stmt.where(t.numbers.c.account_id == account_id)
        rows = await self._read(stmt)
        return Number(**rows[0]) if rows else None

    async def numbers_for(self, number: str) -> list[Number]:
        rows = await self._read(
            select(t.numbers).where(t.numbers.c.number == number).order_by(t.numbers.c.id)
        )
        return [Number(**r) for r in rows]

    async def owners_of(self, number: str, *, now: float) -> frozenset[str]:
        """The accounts a number (E.164 or a short code) is assigned to; cached for
        OWNERS_CACHE_S (a number assigned by another process is seen that much later)."""

        async def load() -> frozenset[str]:
            return frozenset(n.account_id for n in await self.numbers_for(number))

        return await self._owners.get(number, now, load)

    async def delete_number(self, number_id: str) -> bool:
        """Unassign a number and drop its keyword rules (one commit)."""

        def job(conn: Connection) -> bool:
            conn.execute(delete(t.keyword_rules).where(t.keyword_rules.c.number_id == number_id))
            return bool(conn.execute(delete(t.numbers).where(t.numbers.c.id == number_id)).rowcount)

        done: bool = await self.writer.run(job)
        self._owners.invalidate()
        return done

    # ---- keyword rules -------------------------------------------------------------------

    async def create_rule(self, rule: KeywordRule) -> KeywordRule:
        """Add a rule; Conflict when the keyword is taken on that number (by any account)."""
        try:
            await self.writer.write(WriteSet().insert(t.keyword_rules, _row(rule)))
        except (StoreConflict, IntegrityError) as exc:
            raise Conflict("this keyword is taken on this number", field="keyword") from exc
        return rule

    async def list_rules(self, account_id: str, *, number: str | None = None) -> list[KeywordRule]:
        c = t.keyword_rules.c
        stmt = select(t.keyword_rules).where(c.account_id == account_id)
        if number is not None:
            stmt = stmt.where(c.number == number)
        return [KeywordRule(**r) for r in await self._read(stmt.order_by(c.number, c.keyword))]

    async def get_rule(self, account_id: str, rule_id: str) -> KeywordRule | None:
        c = t.keyword_rules.c
        rows = await self._read(
            select(t.keyword_rules).where(c.id == rule_id, c.account_id == account_id)
        )
        return KeywordRule(**rows[0]) if rows else None

    async def delete_rule(self, account_id: str, rule_id: str) -> bool:
        c = t.keyword_rules.c
        stmt = delete(t.keyword_rules).where(c.id == rule_id, c.account_id == account_id)
        return await self._rowcount(stmt) > 0

    async def rules_for(self, number: str) -> list[KeywordRule]:
        """Every account's rules on a number (a shared short code has several accounts)."""
        c = t.keyword_rules.c
        rows = await self._read(select(t.keyword_rules).where(c.number == number))
        return [KeywordRule(**r) for r in rows]

    # ---- suppression list ----------------------------------------------------------------

    async def add_optout(self, entry: OptOut) -> bool:
        """Put a number on the list; False when it was there already (the first entry stays)."""

        def job(conn: Connection) -> bool:
            return _insert_optout(conn, entry)

        created: bool = await self.writer.run(job)
        return created

    async def remove_optout(self, account_id: str, number: str) -> bool:
        c = t.optouts.c
        stmt = delete(t.optouts).where(c.account_id == account_id, c.number == number)
        return await self._rowcount(stmt) > 0

    async def get_optout(self, account_id: str, number: str) -> OptOut | None:
        c = t.optouts.c
        rows = await self._read(
            select(t.optouts).where(c.account_id == account_id, c.number == number)
        )
        return OptOut(**rows[0]) if rows else None

    async def list_optouts(
        self, account_id: str, *, limit: int, after: str | None = None
    ) -> list[OptOut]:
        c = t.optouts.c
        stmt = select(t.optouts).where(c.account_id == account_id)
        if after is not None:
            stmt = stmt.where(c.number > after)
        rows = await self._read(stmt.order_by(c.number).limit(limit))
        return [OptOut(**r) for r in rows]

    async def is_suppressed(self, account_id: str, number: str) -> bool:
        return bool(await self.suppressed(account_id, [number]))

    async def suppressed(self, account_id: str, numbers: Sequence[str]) -> set[str]:
        """Which of `numbers` are on the account's suppression list."""
        wanted = sorted(set(numbers))
        if not wanted:
            return set()
        c = t.optouts.c
        found: set[str] = set()
        for start in range(0, len(wanted), 500):  # bounded IN lists for large batches
            rows = await self._read(
                select(c.number).where(
                    c.account_id == account_id, c.number.in_(wanted[start : start + 500])
                )
            )
            found.update(r["number"] for r in rows)
        return found

    # ---- conversations -------------------------------------------------------------------

    async def list_conversations(
        self, account_id: str, *, limit: int, before: str | None = None, number: str | None = None
    ) -> list[Conversation]:
        c = t.conversations.c
        stmt = select(t.conversations).where(c.account_id == account_id)
        if number is not None:
            stmt = stmt.where(c.number == number)
        if before is not None:
            stmt = stmt.where(c.last_message_id < before)
        rows = await self._read(stmt.order_by(c.last_message_id.desc()).limit(limit))
        return [Conversation(**r) for r in rows]

    async def find_conversation(
        self, account_id: str, peer: str, *, number: str | None = None
    ) -> Conversation | None:
        """The thread with `peer` (on `number`, else the one most recently active)."""
        c = t.conversations.c
        stmt = select(t.conversations).where(c.account_id == account_id, c.peer == peer)
        if number is not None:
            stmt = stmt.where(c.number == number)
        rows = await self._read(stmt.order_by(c.last_message_id.desc()).limit(1))
        return Conversation(**rows[0]) if rows else None

    async def mark_read(self, conversation_id: str, *, now: float) -> None:
        c = t.conversations.c
        await self._rowcount(
            update(t.conversations).where(c.id == conversation_id).values(unread=0, read_at=now)
        )

    async def thread(
        self, account_id: str, number: str, peer: str, *, limit: int, before: str | None = None
    ) -> list[Message]:
        """Messages between `number` and `peer`, both directions, newest first."""
        m = t.messages.c
        inbound = and_(m.direction == "inbound", m.from_addr == peer, m.to_addr == number)
        outbound = and_(m.direction == "outbound", m.from_addr == number, m.to_addr == peer)
        found: dict[str, Message] = {}
        # Two index range scans (account, to/from, id) instead of one OR over the account.
        for condition in (inbound, outbound):
            stmt = select(t.messages).where(m.account_id == account_id, condition)
            if before is not None:
                stmt = stmt.where(m.id < before)
            for r in await self._read(stmt.order_by(m.id.desc()).limit(limit)):
                found[r["id"]] = Message(**r)
        return [found[k] for k in sorted(found, reverse=True)[:limit]]

    async def note_outbound(self, message: Message, *, now: float) -> None:
        """A message sent from an account number to a peer it has a thread with."""

        def job(conn: Connection) -> None:
            _touch_conversation(conn, message, inbound=False, now=now, create=False)

        await self.writer.run(job)

    # ---- inbound -------------------------------------------------------------------------

    async def add_part(
        self, key: PartKey, seq: int, text: str, data_coding: int, *, now: float
    ) -> PendingParts | None:
        """Commit one part; the parts so far (complete or not), or None when this message
        was stored already (a late duplicate)."""

        def job(conn: Connection) -> PendingParts | None:
            found = conn.execute(select(t.inbound_parts).where(_key_filter(key))).mappings()
            rows: list[Mapping[Any, Any]] = list(found)
            if any(r["message_id"] is not None for r in rows):
                return None
            if not any(r["seq"] == seq for r in rows):
                row = {
                    "connector": key.connector,
                    "source": key.source,
                    "destination": key.destination,
                    "ref": key.ref,
                    "total": key.total,
                    "seq": seq,
                    "text": text,
                    "data_coding": data_coding,
                    "received_at": now,
                    "message_id": None,
                }
                conn.execute(t.inbound_parts.insert(), row)
                rows.append(row)
            return _pending(key, rows)

        result: PendingParts | None = await self.writer.run(job)
        return result

    async def finish_parts(
        self, key: PartKey, received: Sequence[Received], unrouted: Unrouted | None, *, now: float
    ) -> bool:
        """Store the message(s) of a part set and mark its parts done, in one commit; False
        (nothing written) when another call finished the set first."""
        c = t.inbound_parts.c
        done_id = received[0].message.id if received else (unrouted.id if unrouted else "")

        def job(conn: Connection) -> bool:
            claimed = conn.execute(
                update(t.inbound_parts)
                .where(_key_filter(key), c.message_id.is_(None))
                .values(message_id=done_id)
            ).rowcount
            if not claimed:
                return False
            _write_received(conn, received, unrouted, now=now)
            return True

        finished: bool = await self.writer.run(job)
        return finished

    async def store_received(self, received: Sequence[Received], unrouted: Unrouted | None) -> None:
        """Store single-part inbound message(s) with everything they change, in one commit."""
        now = received[0].message.created_at if received else 0.0

        def job(conn: Connection) -> None:
            _write_received(conn, received, unrouted, now=now)

        await self.writer.run(job)

    async def pending_parts(self, *, older_than: float | None) -> list[PendingParts]:
        """Unfinished part sets; those whose first part arrived before `older_than` only,
        when given."""
        c = t.inbound_parts.c
        rows = await self._read(
            select(t.inbound_parts)
            .where(c.message_id.is_(None))
            .order_by(c.connector, c.source, c.destination, c.ref, c.total, c.seq)
        )
        groups: dict[PartKey, list[RowMapping]] = {}
        for r in rows:
            key = PartKey(
                connector=r["connector"],
                source=r["source"],
                destination=r["destination"],
                ref=r["ref"],
                total=r["total"],
            )
            groups.setdefault(key, []).append(r)
        sets = [_pending(key, group) for key, group in groups.items()]
        if older_than is None:
            return sets
        return [s for s in sets if s.first_at < older_than]

    async def purge_parts(self, *, before: float) -> int:
        """Forget finished part sets whose parts arrived before `before`."""
        c = t.inbound_parts.c
        return await self._rowcount(
            delete(t.inbound_parts).where(c.message_id.is_not(None), c.received_at < before)
        )

    async def list_unrouted(self, *, limit: int, before: str | None = None) -> list[Unrouted]:
        c = t.inbound_unrouted.c
        stmt = select(t.inbound_unrouted)
        if before is not None:
            stmt = stmt.where(c.id < before)
        rows = await self._read(stmt.order_by(c.id.desc()).limit(limit))
        return [Unrouted(**r) for r in rows]

    async def count_parts(self) -> int:
        rows = await self._read(select(func.count().label("n")).select_from(t.inbound_parts))
        return int(rows[0]["n"])


# ---- job helpers (run inside the writer's transaction) -----------------------------------


def _insert_optout(conn: Connection, entry: OptOut) -> bool:
    c = t.optouts.c
    exists = conn.execute(
        select(c.number).where(c.account_id == entry.account_id, c.number == entry.number)
    ).first()
    if exists is not None:
        return False
    conn.execute(t.optouts.insert(), _row(entry))
    return True


def _touch_conversation(
    conn: Connection, message: Message, *, inbound: bool, now: float, create: bool
) -> None:
    c = t.conversations.c
    number, peer = (
        (message.to_addr, message.from_addr) if inbound else (message.from_addr, message.to_addr)
    )
    where = and_(c.account_id == message.account_id, c.number == number, c.peer == peer)
    values: dict[str, Any] = {
        "last_message_id": message.id,
        "last_direction": message.direction,
        "last_text": message.text[:200],
        "last_at": message.created_at,
    }
    if inbound:
        values["unread"] = c.unread + 1
    changed = conn.execute(
        update(t.conversations).where(where, c.last_message_id < message.id).values(**values)
    ).rowcount
    if changed or not create:
        return
    if conn.execute(select(c.id).where(where)).first() is not None:
        return  # a newer message is there already
    conn.execute(
        t.conversations.insert(),
        {
            "id": "cnv_" + message.id.split("_", 1)[1],
            "account_id": message.account_id,
            "number": number,
            "peer": peer,
            "unread": 1 if inbound else 0,
            "created_at": now,
            "read_at": None,
            **{k: v for k, v in values.items() if k != "unread"},
        },
    )


def _write_received(
    conn: Connection, received: Sequence[Received], unrouted: Unrouted | None, *, now: float
) -> None:
    ws = WriteSet()
    for item in received:
        ws.insert(t.messages, _row(item.message))
        ws.extend(build_write_set([*item.changes, *item.deliveries]))
    if unrouted is not None:
        ws.insert(t.inbound_unrouted, _row(unrouted))
    apply(conn, [ws])
    for item in received:
        _touch_conversation(conn, item.message, inbound=True, now=now, create=True)
        if item.optout is not None:
            _insert_optout(conn, item.optout)
        if item.optin is not None:
            conn.execute(
                delete(t.optouts).where(
                    t.optouts.c.account_id == item.message.account_id,
                    t.optouts.c.number == item.optin,
                )
            )

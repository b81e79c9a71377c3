"""The store: reads as plain queries, writes as group-committed change lists."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter
from typing import Any

from sqlalchemy import bindparam, case, delete, func, literal_column, or_, select, update
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from smsgate.adapters.store import schema as t
from smsgate.adapters.store.cache import TtlCache
from smsgate.adapters.store.database import is_sqlite, make_sync_sqlite_engine
from smsgate.adapters.store.writer import Writer, WriteSet
from smsgate.services.ids import new_id, new_secret
from smsgate.services.records import (
    Account,
    ApiKey,
    Batch,
    Change,
    Delivery,
    DueMessage,
    Message,
    MessageChange,
    MessageTextChange,
    NewDelivery,
    NewMessage,
    OutboxChange,
    Part,
    PartChange,
    PendingSmpp,
    SmppCredentials,
    StatusEvent,
    Webhook,
    new_account,
)

# Prepared statements: one object each, so the writer can run consecutive ones as executemany.
_SENDING = "sending"
_FINAL = ("delivered", "undelivered", "expired", "failed", "rejected", "canceled", "received")


def _one_of(column: Any, values: Sequence[str]) -> Any:
    # Literal SQL values, not expanding parameters: these statements run as executemany.
    # Equalities joined by OR, not IN: SQLite builds an ephemeral table for an IN list on
    # every execution, i.e. for every row of an executemany (measured: 45 us instead of 4 us
    # a row for the message update, whose three CASEs each had one).
    return or_(*(column == literal_column(f"'{v}'") for v in values))


def _keep_final(column: Any) -> Any:
    """A final status is never overwritten, whatever order concurrent results commit in."""
    return case((_one_of(column, _FINAL), column), else_=bindparam("status"))


def _final_keeps(status: Any, column: Any, param: str) -> Any:
    # The error recorded with a final status stays with it: a late "sent" (error None) that
    # commits after an "undelivered" receipt must not wipe the receipt's error code.
    return case((_one_of(status, _FINAL), column), else_=bindparam(param))


_PART_UPDATE = (
    update(t.parts)
    .where(t.parts.c.message_id == bindparam("b_message_id"), t.parts.c.seq == bindparam("b_seq"))
    .values(
        status=_keep_final(t.parts.c.status),
        connector=func.coalesce(bindparam("connector"), t.parts.c.connector),
        smsc_id=func.coalesce(bindparam("smsc_id"), t.parts.c.smsc_id),
        attempts=func.coalesce(bindparam("attempts"), t.parts.c.attempts),
        error_code=_final_keeps(t.parts.c.status, t.parts.c.error_code, "error_code"),
        submitted_at=func.coalesce(bindparam("submitted_at"), t.parts.c.submitted_at),
        done_at=func.coalesce(bindparam("done_at"), t.parts.c.done_at),
    )
)
_MESSAGE_UPDATE = (
    update(t.messages)
    .where(t.messages.c.id == bindparam("b_id"))
    .values(
        status=_keep_final(t.messages.c.status),
        updated_at=bindparam("updated_at"),
        error_code=_final_keeps(t.messages.c.status, t.messages.c.error_code, "error_code"),
        error_message=_final_keeps(
            t.messages.c.status, t.messages.c.error_message, "error_message"
        ),
        connector=func.coalesce(bindparam("connector"), t.messages.c.connector),
        sent_at=func.coalesce(t.messages.c.sent_at, bindparam("sent_at")),
        delivered_at=func.coalesce(bindparam("delivered_at"), t.messages.c.delivered_at),
    )
)
_OUTBOX_DELETE = delete(t.outbox).where(
    t.outbox.c.message_id == bindparam("b_message_id"), t.outbox.c.seq == bindparam("b_seq")
)
_MESSAGE_TEXT = (
    update(t.messages).where(t.messages.c.id == bindparam("b_id")).values(text=bindparam("text"))
)
_SMPP_DONE = delete(t.smpp_outbox).where(t.smpp_outbox.c.id == bindparam("b_id"))
_SMPP_RETRY = (
    update(t.smpp_outbox)
    .where(t.smpp_outbox.c.id == bindparam("b_id"))
    .values(attempts=bindparam("attempts"), next_attempt_at=bindparam("next_attempt_at"))
)
_OUTBOX_RESCHEDULE = (
    update(t.outbox)
    .where(t.outbox.c.message_id == bindparam("b_message_id"), t.outbox.c.seq == bindparam("b_seq"))
    .values(due_at=bindparam("due_at"), claimed_until=None, attempts=bindparam("attempts"))
)
_DELIVERY_RESULT = (
    update(t.webhook_deliveries)
    .where(t.webhook_deliveries.c.id == bindparam("b_id"))
    .values(
        status=bindparam("status"),
        attempts=bindparam("attempts"),
        next_attempt_at=bindparam("next_attempt_at"),
        claimed_until=None,
        last_status_code=bindparam("last_status_code"),
        last_error=bindparam("last_error"),
        delivered_at=bindparam("delivered_at"),
    )
)

_DELIVERY_DEFER = (
    update(t.webhook_deliveries)
    .where(
        t.webhook_deliveries.c.id == bindparam("b_id"),
        t.webhook_deliveries.c.status == "pending",
    )
    .values(next_attempt_at=bindparam("next_attempt_at"), claimed_until=None)
)
_DELIVERY_HASTEN = (
    update(t.webhook_deliveries)
    .where(
        t.webhook_deliveries.c.id == bindparam("b_id"),
        t.webhook_deliveries.c.status == "pending",
        t.webhook_deliveries.c.claimed_until.is_(None),
        t.webhook_deliveries.c.next_attempt_at > bindparam("b_at"),
    )
    .values(next_attempt_at=bindparam("b_at"))
)

AUTH_CACHE_S = 5.0
WEBHOOK_CACHE_S = 10.0


def hash_key(secret: str) -> str:
    # API keys are 192-bit random tokens: a plain SHA-256 is enough (no dictionary to guess).
    return hashlib.sha256(secret.encode()).hexdigest()


def _row(cls: Any, row: RowMapping) -> Any:
    return cls(**dict(row))


def _message(row: RowMapping) -> Message:
    return Message(**dict(row))


def _webhook(row: RowMapping) -> Webhook:
    data = dict(row)
    data["events"] = tuple(json.loads(data["events"]))
    return Webhook(**data)


class Store:
    """All persistence of the gateway. One instance per process; owns the writer task."""

    def __init__(self, engine: AsyncEngine, *, url: str, commit_window_s: float = 0.002):
        self.engine = engine
        self.sqlite = is_sqlite(url)
        self.writer = Writer(
            engine,
            window_s=commit_window_s,
            sync_engine=make_sync_sqlite_engine(url) if self.sqlite else None,
        )
        self._auth_cache: TtlCache[str, tuple[Account, ApiKey] | None] = TtlCache(
            ttl_s=AUTH_CACHE_S
        )
        self._webhook_cache: TtlCache[str, tuple[Webhook, ...]] = TtlCache(ttl_s=WEBHOOK_CACHE_S)
        self._smpp_cache: TtlCache[str, SmppCredentials | None] = TtlCache(ttl_s=AUTH_CACHE_S)
        self._account_cache: TtlCache[str, Account | None] = TtlCache(ttl_s=AUTH_CACHE_S)
        self.smpp_account_ids: set[str] = set()

    async def start(self) -> None:
        await self.writer.start()

    async def stop(self) -> None:
        await self.writer.stop()

    async def _rowcount(self, stmt: Any) -> int:
        """Run one writing statement through the writer; the number of rows it touched."""

        def job(conn: Connection) -> int:
            return int((conn.execute(stmt)).rowcount or 0)

        count: int = await self.writer.run(job)
        return count

    async def _read(self, stmt: Any) -> list[RowMapping]:
        async with self.engine.connect() as conn:
            conn.sync_connection.info["read_only"] = True  # type: ignore[union-attr]
            result = await conn.execute(stmt)
            rows = list(result.mappings())
            await conn.rollback()
            return rows

    # ---- accounts and keys ---------------------------------------------------------------

    async def create_account(
        self,
        *,
        name: str,
        role: str = "user",
        default_country: str = "",
        max_parts: int = 10,
        help_text: str = "",
        now: float,
    ) -> Account:
        account = new_account(
            name=name,
            role=role,
            default_country=default_country,
            max_parts=max_parts,
            help_text=help_text,
            now=now,
        )
        await self.writer.write(WriteSet().insert(t.accounts, _asdict(account)))
        self._account_cache.invalidate(account.id)
        return account

    async def get_account(self, account_id: str) -> Account | None:
        """An account by id (cached for a few seconds: every submit and webhook needs it)."""

        return await self._account_cache.get(
            account_id, time.monotonic(), lambda: self._load_account(account_id)
        )

    async def _load_account(self, account_id: str) -> Account | None:
        rows = await self._read(select(t.accounts).where(t.accounts.c.id == account_id))
        return _row(Account, rows[0]) if rows else None

    async def account_by_name(self, name: str) -> Account | None:
        rows = await self._read(select(t.accounts).where(t.accounts.c.name == name))
        return _row(Account, rows[0]) if rows else None

    async def list_accounts(self) -> list[Account]:
        rows = await self._read(select(t.accounts).order_by(t.accounts.c.created_at))
        return [_row(Account, r) for r in rows]

    async def rotate_signing_secret(self, account_id: str) -> str | None:
        """A new callback secret for the account (signs its callback_url calls and keyword
        forwards from now on); None when there is no such account."""
        secret = new_secret("whsec")
        changed = await self._rowcount(
            update(t.accounts).where(t.accounts.c.id == account_id).values(signing_secret=secret)
        )
        self._account_cache.invalidate(account_id)
        self._auth_cache.invalidate()  # it holds Account objects too
        return secret if changed else None

    async def create_api_key(self, account_id: str, *, name: str, now: float) -> tuple[ApiKey, str]:
        secret = new_secret("sk")
        key = ApiKey(
            id=new_id("key", now),
            account_id=account_id,
            name=name,
            prefix=secret[:7],
            created_at=now,
            revoked_at=None,
        )
        row = {**_asdict(key), "key_hash": hash_key(secret)}
        await self.writer.write(WriteSet().insert(t.api_keys, row))
        return key, secret

    async def list_api_keys(self, account_id: str) -> list[ApiKey]:
        cols = [c for c in t.api_keys.c if c.name != "key_hash"]
        rows = await self._read(
            select(*cols).where(t.api_keys.c.account_id == account_id).order_by(t.api_keys.c.id)
        )
        return [_row(ApiKey, r) for r in rows]

    async def revoke_api_key(self, account_id: str, key_id: str, *, now: float) -> bool:
        stmt = (
            update(t.api_keys)
            .where(
                t.api_keys.c.id == key_id,
                t.api_keys.c.account_id == account_id,
                t.api_keys.c.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        changed = await self._rowcount(stmt)
        self._auth_cache.invalidate()
        return changed > 0

    async def authenticate(self, secret: str, *, now: float) -> tuple[Account, ApiKey] | None:
        """The account and key for a secret; cached for a few seconds (revocation clears it)."""
        digest = hash_key(secret)

        async def load() -> tuple[Account, ApiKey] | None:
            cols = [c for c in t.api_keys.c if c.name != "key_hash"]
            rows = await self._read(
                select(*cols).where(
                    t.api_keys.c.key_hash == digest, t.api_keys.c.revoked_at.is_(None)
                )
            )
            if not rows:
                return None
            key = _row(ApiKey, rows[0])
            account = await self._load_account(key.account_id)  # the auth cache is enough
            if account is None or account.disabled:
                return None
            return account, key

        return await self._auth_cache.get(digest, now, load)

    # ---- messages ------------------------------------------------------------------------

    async def accept(
        self,
        new: Sequence[NewMessage],
        *,
        batch: Batch | None = None,
        after_commit: Callable[[], None] | None = None,
    ) -> None:
        """Commit messages with their parts, queue rows, events and webhooks: one commit.

        `after_commit` runs once the commit is durable, even if the caller was canceled
        meanwhile (it hands the messages to the dispatcher of this process)."""
        ws = WriteSet()
        if batch is not None:
            ws.insert(t.batches, _asdict(batch))
        for item in new:
            # Claimed by the dispatcher of this process: the rows a claim would leave (sending;
            # the due time is the lease's end, so claims skip it until the lease runs out).
            claimed = item.claimed_until
            due_at = item.due_at if claimed is None else claimed
            row = _asdict(item.message)
            if claimed is not None:
                row["status"] = _SENDING
            ws.insert(t.messages, row)
            for part in item.parts:
                row = _asdict(part)
                if claimed is not None:
                    row["status"] = _SENDING
                ws.insert(t.parts, row)
                if due_at is not None:
                    ws.insert(
                        t.outbox,
                        {
                            "message_id": part.message_id,
                            "seq": part.seq,
                            "due_at": due_at,
                            "claimed_until": claimed,
                            "attempts": 0,
                        },
                    )
            for ev in item.events:
                ws.insert(t.status_events, _asdict(ev))
            for delivery in item.deliveries:
                ws.insert(t.webhook_deliveries, _delivery_row(delivery))
            if item.idempotency is not None:
                key, request_hash = item.idempotency
                ws.insert(
                    t.idempotency_keys,
                    {
                        "account_id": item.message.account_id,
                        "key": key,
                        "request_hash": request_hash,
                        "message_id": item.message.id,
                        "created_at": item.message.created_at,
                    },
                )
        if after_commit is not None:
            ws.after_commit.append(after_commit)
        await self.writer.write(ws)

    async def get_message(self, message_id: str, account_id: str | None = None) -> Message | None:
        stmt = select(t.messages).where(t.messages.c.id == message_id)
        if account_id is not None:
            stmt = stmt.where(t.messages.c.account_id == account_id)
        rows = await self._read(stmt)
        return _message(rows[0]) if rows else None

    async def get_messages(self, ids: Iterable[str]) -> dict[str, Message]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        rows = await self._read(select(t.messages).where(t.messages.c.id.in_(wanted)))
        return {r["id"]: _message(r) for r in rows}

    async def list_messages(
        self,
        account_id: str,
        *,
        limit: int,
        before: str | None = None,
        direction: str | None = None,
        status: str | None = None,
        to_addr: str | None = None,
        from_addr: str | None = None,
        since: float | None = None,
        until: float | None = None,
        batch_id: str | None = None,
    ) -> list[Message]:
        c = t.messages.c
        stmt = select(t.messages).where(c.account_id == account_id)
        for column, value in (
            (c.direction, direction),
            (c.status, status),
            (c.to_addr, to_addr),
            (c.from_addr, from_addr),
            (c.batch_id, batch_id),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if before is not None:
            stmt = stmt.where(c.id < before)
        if since is not None:
            stmt = stmt.where(c.created_at >= since)
        if until is not None:
            stmt = stmt.where(c.created_at < until)
        rows = await self._read(stmt.order_by(c.id.desc()).limit(limit))
        return [_message(r) for r in rows]

    async def get_batch(self, batch_id: str, account_id: str) -> Batch | None:
        rows = await self._read(
            select(t.batches).where(
                t.batches.c.id == batch_id, t.batches.c.account_id == account_id
            )
        )
        return _row(Batch, rows[0]) if rows else None

    async def get_parts(self, message_id: str) -> list[Part]:
        rows = await self._read(
            select(t.parts).where(t.parts.c.message_id == message_id).order_by(t.parts.c.seq)
        )
        return [_row(Part, r) for r in rows]

    async def get_events(self, message_id: str) -> list[StatusEvent]:
        cols = [c for c in t.status_events.c if c.name != "id"]
        rows = await self._read(
            select(*cols)
            .where(t.status_events.c.message_id == message_id)
            .order_by(t.status_events.c.id)
        )
        return [_row(StatusEvent, r) for r in rows]

    async def find_idempotent(self, account_id: str, key: str) -> tuple[str, str] | None:
        rows = await self._read(
            select(t.idempotency_keys.c.request_hash, t.idempotency_keys.c.message_id).where(
                t.idempotency_keys.c.account_id == account_id, t.idempotency_keys.c.key == key
            )
        )
        return (rows[0]["request_hash"], rows[0]["message_id"]) if rows else None

    async def count_by_status(
        self, account_id: str, *, batch_id: str | None = None
    ) -> dict[str, int]:
        stmt = select(t.messages.c.status, func.count().label("n")).where(
            t.messages.c.account_id == account_id
        )
        if batch_id is not None:
            stmt = stmt.where(t.messages.c.batch_id == batch_id)
        rows = await self._read(stmt.group_by(t.messages.c.status))
        return {r["status"]: int(r["n"]) for r in rows}

    # ---- dispatch queue ------------------------------------------------------------------

    async def claim_due(self, *, now: float, limit: int, lease_s: float) -> list[DueMessage]:
        """Claim up to `limit` due parts for `lease_s` seconds (FOR UPDATE SKIP LOCKED on PG)."""
        o = t.outbox.c
        # A claim moves the row's due time to the end of the lease: claimed rows drop out of
        # the due range (the index scan stops after `limit` rows instead of walking past every
        # part in flight), and come back by themselves if the lease runs out.
        stmt = (
            select(o.message_id, o.seq, o.attempts)
            .where(o.due_at <= now)
            .order_by(o.due_at, o.message_id, o.seq)
            .limit(limit)
        )
        if not self.sqlite:
            stmt = stmt.with_for_update(skip_locked=True)

        def job(conn: Connection) -> list[DueMessage]:
            claimed = list((conn.execute(stmt)).mappings())
            if not claimed:
                return []
            conn.execute(
                update(t.outbox)
                .where(o.message_id == bindparam("b_m"), o.seq == bindparam("b_s"))
                .values(claimed_until=now + lease_s, due_at=now + lease_s),
                [{"b_m": r["message_id"], "b_s": r["seq"]} for r in claimed],
            )
            conn.execute(
                update(t.parts)
                .where(
                    t.parts.c.message_id == bindparam("b_m"),
                    t.parts.c.seq == bindparam("b_s"),
                    _one_of(t.parts.c.status, ("queued", "scheduled", "sent")),
                )
                .values(status="sending"),
                [{"b_m": r["message_id"], "b_s": r["seq"]} for r in claimed],
            )
            conn.execute(
                update(t.messages)
                .where(
                    t.messages.c.id == bindparam("b_m"),
                    _one_of(t.messages.c.status, ("queued", "scheduled")),
                )
                .values(status="sending", updated_at=now),
                [{"b_m": m} for m in dict.fromkeys(r["message_id"] for r in claimed)],
            )
            return self._load_due(conn, claimed)

        due: list[DueMessage] = await self.writer.run(job)
        return due

    def _load_due(self, conn: Connection, claimed: list[RowMapping]) -> list[DueMessage]:
        ids = list(dict.fromkeys(r["message_id"] for r in claimed))
        msgs = {
            r["id"]: _message(r)
            for r in (conn.execute(select(t.messages).where(t.messages.c.id.in_(ids))))
            .mappings()
            .all()
        }
        wanted = {(r["message_id"], r["seq"]): r["attempts"] for r in claimed}
        parts: dict[str, list[Part]] = {}
        for r in (
            (conn.execute(select(t.parts).where(t.parts.c.message_id.in_(ids)))).mappings().all()
        ):
            if (r["message_id"], r["seq"]) in wanted:
                parts.setdefault(r["message_id"], []).append(_row(Part, r))
        due = []
        for mid in ids:
            if mid in msgs and mid in parts:
                ps = sorted(parts[mid], key=lambda p: p.seq)
                due.append(
                    DueMessage(
                        message=msgs[mid],
                        parts=tuple(ps),
                        attempts={p.seq: wanted[(mid, p.seq)] for p in ps},
                    )
                )
        return due

    async def release_claims(self, *, now: float | None = None) -> int:
        """Single-node start-up: whatever this node had claimed before a crash is due again
        (parts to send, and webhook deliveries: else those wait out their lease)."""
        parts = await self._rowcount(
            update(t.outbox)
            .where(t.outbox.c.claimed_until.is_not(None))
            .values(claimed_until=None, due_at=time.time() if now is None else now)
        )
        d = t.webhook_deliveries.c
        hooks = await self._rowcount(
            update(t.webhook_deliveries)
            .where(d.claimed_until.is_not(None), d.status == "pending")
            .values(claimed_until=None, next_attempt_at=time.time() if now is None else now)
        )
        return parts + hooks

    async def queue_depth(self) -> int:
        rows = await self._read(select(func.count().label("n")).select_from(t.outbox))
        return int(rows[0]["n"])

    async def add_parts(
        self, parts: Sequence[Part], *, due_at: float, changes: Sequence[Change] = ()
    ) -> None:
        """More parts of an existing message, queued for `due_at`, with other changes."""
        ws = build_write_set(changes)
        for part in parts:
            ws.insert(t.parts, _asdict(part))
            ws.insert(
                t.outbox,
                {
                    "message_id": part.message_id,
                    "seq": part.seq,
                    "due_at": due_at,
                    "claimed_until": None,
                    "attempts": 0,
                },
            )
        await self.writer.write(ws)

    async def apply(self, changes: Sequence[Change]) -> None:
        """Commit status changes; callers sort nothing, the statements are grouped here."""
        await self.writer.write(build_write_set(changes))

    async def cancel_unclaimed(self, message_id: str, *, now: float) -> bool:
        """Take a message's parts off the queue if no worker holds them; True when done."""
        o = t.outbox.c

        def job(conn: Connection) -> bool:
            count = select(func.count().label("n")).where(o.message_id == message_id)
            total = (conn.execute(count)).scalar_one()
            unclaimed = count.where(or_(o.claimed_until.is_(None), o.claimed_until < now))
            if total == 0 or (conn.execute(unclaimed)).scalar_one() != total:
                return False
            conn.execute(delete(t.outbox).where(o.message_id == message_id))
            return True

        done: bool = await self.writer.run(job)
        return done

    async def part_by_smsc(self, connector: str, candidates: Sequence[str]) -> Part | None:
        rows = await self._read(
            select(t.parts).where(
                t.parts.c.connector == connector, t.parts.c.smsc_id.in_(list(candidates))
            )
        )
        return _row(Part, rows[0]) if rows else None

    async def expired_in_flight(self, *, now: float, limit: int) -> list[Message]:
        """Sent messages whose validity ended without a final receipt."""
        rows = await self._read(
            select(t.messages)
            .where(t.messages.c.status == "sent", t.messages.c.valid_until < now)
            .limit(limit)
        )
        return [_message(r) for r in rows]

    # ---- SMPP customers --------------------------------------------------------------------

    async def set_smpp_credentials(self, creds: SmppCredentials) -> None:
        """Create or replace the SMPP login `creds.system_id` (of one account only)."""
        c = t.smpp_credentials.c

        def job(conn: Connection) -> None:
            conn.execute(
                delete(t.smpp_credentials).where(
                    c.system_id == creds.system_id, c.account_id == creds.account_id
                )
            )
            conn.execute(t.smpp_credentials.insert(), [_asdict(creds)])

        await self.writer.run(job)
        self._smpp_cache.invalidate(creds.system_id)
        self.smpp_account_ids.add(creds.account_id)

    async def smpp_credentials(self, system_id: str, *, now: float) -> SmppCredentials | None:
        async def load() -> SmppCredentials | None:
            rows = await self._read(
                select(t.smpp_credentials).where(t.smpp_credentials.c.system_id == system_id)
            )
            return _row(SmppCredentials, rows[0]) if rows else None

        return await self._smpp_cache.get(system_id, now, load)

    async def load_smpp_account_ids(self) -> set[str]:
        """Which accounts have an SMPP login; kept in `smpp_account_ids` (changes made
        through this store update it; other nodes' changes show at their next start)."""
        rows = await self._read(select(t.smpp_credentials.c.account_id).distinct())
        self.smpp_account_ids = {r["account_id"] for r in rows}
        return self.smpp_account_ids

    async def list_smpp_credentials(self, account_id: str) -> list[SmppCredentials]:
        rows = await self._read(
            select(t.smpp_credentials)
            .where(t.smpp_credentials.c.account_id == account_id)
            .order_by(t.smpp_credentials.c.system_id)
        )
        return [_row(SmppCredentials, r) for r in rows]

    async def delete_smpp_credentials(self, account_id: str, system_id: str) -> bool:
        c = t.smpp_credentials.c
        changed = await self._rowcount(
            delete(t.smpp_credentials).where(c.system_id == system_id, c.account_id == account_id)
        )
        self._smpp_cache.invalidate(system_id)
        if not await self.list_smpp_credentials(account_id):
            self.smpp_account_ids.discard(account_id)
        return changed > 0

    async def pending_smpp(self, account_id: str, *, now: float, limit: int) -> list[PendingSmpp]:
        """deliver_sm waiting for the account's ESME, oldest first."""
        o = t.smpp_outbox.c
        rows = await self._read(
            select(t.smpp_outbox)
            .where(o.account_id == account_id, o.next_attempt_at <= now)
            .order_by(o.id)
            .limit(limit)
        )
        return [_row(PendingSmpp, r) for r in rows]

    async def accounts_with_pending_smpp(self) -> list[str]:
        rows = await self._read(select(t.smpp_outbox.c.account_id).distinct())
        return [r["account_id"] for r in rows]

    async def smpp_delivered(
        self, done: Sequence[int], retry: Sequence[tuple[int, int, float]]
    ) -> None:
        """Remove delivered rows; put failed ones back (id, attempts, next attempt)."""
        ws = WriteSet()
        for row_id in done:
            ws.run(_SMPP_DONE, {"b_id": row_id})
        for row_id, attempts, at in retry:
            ws.run(_SMPP_RETRY, {"b_id": row_id, "attempts": attempts, "next_attempt_at": at})
        if ws:
            await self.writer.write(ws)

    async def replace_scheduled(
        self,
        message_id: str,
        *,
        text: str,
        encoding: str,
        parts: Sequence[Part],
        due_at: float,
        now: float,
    ) -> bool:
        """replace_sm: swap the text and schedule of a message still waiting to be sent."""
        o = t.outbox.c

        def job(conn: Connection) -> bool:
            message = conn.execute(
                select(t.messages.c.status).where(t.messages.c.id == message_id)
            ).first()
            if message is None or message.status not in ("scheduled", "queued"):
                return False
            queued = conn.execute(
                select(func.count().label("n")).where(o.message_id == message_id)
            ).scalar_one()
            free = conn.execute(
                select(func.count().label("n")).where(
                    o.message_id == message_id,
                    or_(o.claimed_until.is_(None), o.claimed_until < now),
                )
            ).scalar_one()
            if queued == 0 or free != queued:
                return False
            conn.execute(delete(t.outbox).where(o.message_id == message_id))
            conn.execute(delete(t.parts).where(t.parts.c.message_id == message_id))
            conn.execute(t.parts.insert(), [_asdict(p) for p in parts])
            conn.execute(
                t.outbox.insert(),
                [
                    {
                        "message_id": message_id,
                        "seq": p.seq,
                        "due_at": due_at,
                        "claimed_until": None,
                        "attempts": 0,
                    }
                    for p in parts
                ],
            )
            conn.execute(
                update(t.messages)
                .where(t.messages.c.id == message_id)
                .values(
                    text=text,
                    encoding=encoding,
                    parts=len(parts),
                    scheduled_at=due_at if due_at > now else None,
                    updated_at=now,
                )
            )
            return True

        replaced: bool = await self.writer.run(job)
        return replaced

    # ---- webhooks ------------------------------------------------------------------------

    async def create_webhook(
        self, account_id: str, *, url: str, events: Sequence[str], description: str, now: float
    ) -> Webhook:
        hook = Webhook(
            id=new_id("wh", now),
            account_id=account_id,
            url=url,
            events=tuple(events),
            secret=new_secret("whsec"),
            description=description,
            active=True,
            created_at=now,
        )
        row = {**_asdict(hook), "events": json.dumps(list(hook.events))}
        await self.writer.write(WriteSet().insert(t.webhooks, row))
        self._webhook_cache.invalidate(account_id)
        return hook

    async def list_webhooks(self, account_id: str) -> list[Webhook]:
        rows = await self._read(
            select(t.webhooks)
            .where(t.webhooks.c.account_id == account_id)
            .order_by(t.webhooks.c.id)
        )
        return [_webhook(r) for r in rows]

    async def get_webhook(self, account_id: str, webhook_id: str) -> Webhook | None:
        rows = await self._read(
            select(t.webhooks).where(
                t.webhooks.c.id == webhook_id, t.webhooks.c.account_id == account_id
            )
        )
        return _webhook(rows[0]) if rows else None

    async def delete_webhook(self, account_id: str, webhook_id: str) -> bool:
        changed = await self._rowcount(
            delete(t.webhooks).where(
                t.webhooks.c.id == webhook_id, t.webhooks.c.account_id == account_id
            )
        )
        self._webhook_cache.invalidate(account_id)
        return changed > 0

    async def webhooks_for(self, account_id: str, *, now: float) -> tuple[Webhook, ...]:
        """The account's active subscriptions (cached; changes made here clear the cache)."""

        async def load() -> tuple[Webhook, ...]:
            return tuple(h for h in await self.list_webhooks(account_id) if h.active)

        return await self._webhook_cache.get(account_id, now, load)

    async def claim_deliveries(self, *, now: float, limit: int, lease_s: float) -> list[Delivery]:
        """Claim up to `limit` due pending deliveries for `lease_s` seconds, oldest due first
        (FOR UPDATE SKIP LOCKED on PG). The returned rows carry their due time before the claim.

        As with parts, a claim moves the row's due time to the end of its lease: rows in flight
        leave the due range, so the scan of ix_webhook_deliveries_due stops after `limit` rows
        whatever the backlog, and a row whose sender died is due again when its lease ends."""
        d = t.webhook_deliveries.c
        stmt = (
            select(t.webhook_deliveries)
            .where(d.status == "pending", d.next_attempt_at <= now)
            .order_by(d.next_attempt_at)
            .limit(limit)
        )
        if not self.sqlite:
            stmt = stmt.with_for_update(skip_locked=True)

        def job(conn: Connection) -> list[RowMapping]:
            rows = list((conn.execute(stmt)).mappings())
            if rows:
                conn.execute(
                    update(t.webhook_deliveries)
                    .where(d.id == bindparam("b_id"))
                    .values(claimed_until=now + lease_s, next_attempt_at=now + lease_s),
                    [{"b_id": r["id"]} for r in rows],
                )
            return rows

        claimed: list[RowMapping] = await self.writer.run(job)
        return [_delivery(r) for r in claimed]

    async def record_delivery_attempts(
        self,
        results: Sequence[DeliveryAttempt],
        *,
        deferred: Sequence[tuple[str, float]] = (),
        hastened: Sequence[tuple[str, float]] = (),
    ) -> None:
        """Record attempts and their outcome. `deferred` (delivery id, due time): deliveries
        this sender claimed and puts back unattempted (their origin is down), due again then;
        `hastened`: unclaimed deliveries put back earlier, made due by then (their origin is up)."""
        ws = WriteSet()
        for delivery_id, due_at in deferred:
            ws.run(_DELIVERY_DEFER, {"b_id": delivery_id, "next_attempt_at": due_at})
        for delivery_id, due_at in hastened:
            ws.run(_DELIVERY_HASTEN, {"b_id": delivery_id, "b_at": due_at})
        for r in results:
            ws.insert(
                t.webhook_attempts,
                {
                    "delivery_id": r.delivery_id,
                    "attempted_at": r.attempted_at,
                    "status_code": r.status_code,
                    "error": r.error,
                    "duration_ms": r.duration_ms,
                },
            )
        for r in results:
            ws.run(
                _DELIVERY_RESULT,
                {
                    "b_id": r.delivery_id,
                    "status": r.new_status,
                    "attempts": r.attempts,
                    "next_attempt_at": r.next_attempt_at,
                    "last_status_code": r.status_code,
                    "last_error": r.error,
                    "delivered_at": r.attempted_at if r.new_status == "delivered" else None,
                },
            )
        await self.writer.write(ws)

    async def list_deliveries(
        self,
        account_id: str,
        *,
        webhook_id: str | None = None,
        message_id: str | None = None,
        limit: int = 100,
    ) -> list[Delivery]:
        d = t.webhook_deliveries.c
        stmt = select(t.webhook_deliveries).where(d.account_id == account_id)
        if webhook_id is not None:
            stmt = stmt.where(d.webhook_id == webhook_id)
        if message_id is not None:
            stmt = stmt.where(d.message_id == message_id)
        rows = await self._read(stmt.order_by(d.created_at.desc()).limit(limit))
        return [_delivery(r) for r in rows]

    async def list_attempts(self, delivery_id: str) -> list[dict[str, Any]]:
        a = t.webhook_attempts.c
        rows = await self._read(
            select(a.attempted_at, a.status_code, a.error, a.duration_ms)
            .where(a.delivery_id == delivery_id)
            .order_by(a.id)
        )
        return [dict(r) for r in rows]

    async def ping(self) -> None:
        """Raise if the database cannot answer a query."""
        await self._read(select(func.count().label("n")).select_from(t.accounts))


class DeliveryAttempt:
    """The result of one webhook POST."""

    __slots__ = (
        "attempted_at",
        "attempts",
        "delivery_id",
        "duration_ms",
        "error",
        "new_status",
        "next_attempt_at",
        "status_code",
    )

    def __init__(
        self,
        *,
        delivery_id: str,
        attempted_at: float,
        status_code: int | None,
        error: str | None,
        duration_ms: float,
        new_status: str,
        attempts: int,
        next_attempt_at: float | None,
    ) -> None:
        self.delivery_id = delivery_id
        self.attempted_at = attempted_at
        self.status_code = status_code
        self.error = error
        self.duration_ms = duration_ms
        self.new_status = new_status
        self.attempts = attempts
        self.next_attempt_at = next_attempt_at


def build_write_set(changes: Sequence[Change]) -> WriteSet:
    """Group changes by statement so each group runs as one executemany."""
    ws = WriteSet()
    part_rows: list[dict[str, Any]] = []
    message_rows: list[dict[str, Any]] = []
    deletes: list[dict[str, Any]] = []
    reschedules: list[dict[str, Any]] = []
    texts: list[dict[str, Any]] = []
    for change in changes:
        if isinstance(change, PartChange):
            part_rows.append(
                {
                    "b_message_id": change.message_id,
                    "b_seq": change.seq,
                    "status": change.status,
                    "connector": change.connector,
                    "smsc_id": change.smsc_id,
                    "attempts": change.attempts,
                    "error_code": change.error_code,
                    "submitted_at": change.submitted_at,
                    "done_at": change.done_at,
                }
            )
        elif isinstance(change, MessageChange):
            message_rows.append(
                {
                    "b_id": change.message_id,
                    "status": change.status,
                    "updated_at": change.updated_at,
                    "error_code": change.error_code,
                    "error_message": change.error_message,
                    "connector": change.connector,
                    "sent_at": change.sent_at,
                    "delivered_at": change.delivered_at,
                }
            )
        elif isinstance(change, OutboxChange):
            key = {"b_message_id": change.message_id, "b_seq": change.seq}
            if change.due_at is None:
                deletes.append(key)
            else:
                reschedules.append({**key, "due_at": change.due_at, "attempts": change.attempts})
        elif isinstance(change, StatusEvent):
            ws.insert(t.status_events, _asdict(change))
        elif isinstance(change, NewDelivery):
            ws.insert(t.webhook_deliveries, _delivery_row(change))
        elif isinstance(change, MessageTextChange):
            texts.append({"b_id": change.message_id, "text": change.text})
        else:
            ws.insert(t.smpp_outbox, {**_asdict(change), "attempts": 0, "next_attempt_at": 0.0})
    for stmt, rows in (
        (_MESSAGE_TEXT, texts),
        (_PART_UPDATE, part_rows),
        (_MESSAGE_UPDATE, message_rows),
        (_OUTBOX_DELETE, deletes),
        (_OUTBOX_RESCHEDULE, reschedules),
    ):
        for row in rows:
            ws.run(stmt, row)
    return ws


_FIELDS: dict[type, tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]] = {}


def _asdict(obj: Any) -> dict[str, Any]:
    """A record's fields (a slots dataclass) as a row; the getter is made once per class."""
    cls = type(obj)
    known = _FIELDS.get(cls)
    if known is None:
        names = tuple(cls.__slots__)
        known = _FIELDS[cls] = (names, attrgetter(*names))
    names, values = known
    return dict(zip(names, values(obj), strict=False))  # same length: made from `names`


def _delivery_row(d: NewDelivery) -> dict[str, Any]:
    return {
        **_asdict(d),
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": d.created_at,
        "claimed_until": None,
        "last_status_code": None,
        "last_error": None,
        "delivered_at": None,
    }


def _delivery(row: RowMapping) -> Delivery:
    data = {k: v for k, v in dict(row).items() if k != "claimed_until"}
    return Delivery(**data)

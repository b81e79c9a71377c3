"""Sending: validate a request, encode and split it, and commit it with its queue rows."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Protocol

import orjson

from smsgate import codec
from smsgate.domain.errors import (
    InvalidNumber,
    InvalidRequest,
    SenderNotAllowed,
    TooManyParts,
)
from smsgate.domain.numbers import normalize
from smsgate.domain.senders import parse_sender
from smsgate.domain.states import CANCELABLE, Status
from smsgate.domain.urls import normalize_url
from smsgate.services.clock import Clock
from smsgate.services.errors import Conflict, NotFound, StoreConflict
from smsgate.services.events import MESSAGE_STATUS, deliveries_for
from smsgate.services.ids import new_id
from smsgate.services.ports import Handoff
from smsgate.services.records import (
    Account,
    Batch,
    DueMessage,
    Message,
    MessageChange,
    NewMessage,
    Part,
    PartChange,
    StatusEvent,
    Webhook,
)
from smsgate.services.store_port import StorePort

CATEGORIES = ("transactional", "marketing")
ENCODINGS = ("auto", "gsm7", "ucs2")
MIN_VALIDITY_S = 5
MAX_VALIDITY_S = 7 * 24 * 3600
MAX_SCHEDULE_S = 366 * 24 * 3600
DATA_CODING = {codec.Encoding.GSM7: 0, codec.Encoding.UCS2: 8}
UDHI = 0x40
OPTED_OUT = "opted_out"

# (account id, numbers) → the numbers on the account's suppression list.
Suppressed = Callable[[str, Sequence[str]], Awaitable[set[str]]]


class NumberOwners(Protocol):
    """The accounts a number is assigned to (two-way numbers); empty when unassigned."""

    def __call__(self, number: str, *, now: float) -> Awaitable[frozenset[str]]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SendRequest:
    to: str
    sender: str | None = None
    text: str
    category: str = "transactional"
    send_at: float | None = None
    validity_s: int | None = None
    encoding: str = "auto"
    reference: str | None = None
    callback_url: str | None = None
    transliterate: bool = False

    def fingerprint(self) -> str:
        return hashlib.sha256(orjson.dumps(asdict(self), option=orjson.OPT_SORT_KEYS)).hexdigest()


def check_callback_url(url: str | None, field: str = "callback_url") -> str | None:
    """The URL in normal form (domain/urls.py); InvalidRequest when malformed. Whether its
    address is allowed is checked by the adapter that takes it (adapters/url_guard.py)."""
    if url is None:
        return None
    return normalize_url(url, field)


def too_many_parts(exc: codec.TooManyParts) -> TooManyParts:
    return TooManyParts(
        f"the text needs {exc.parts} parts; this account allows {exc.max_parts}", field="text"
    )


def check_part_count(account: Account, parts: int) -> None:
    """The account's part limit (DESIGN.md §5) for a message that comes already split (SMPP
    UDH or SAR parts): the rule `build` applies to the texts it splits. Raises TooManyParts."""
    try:
        codec.check_part_count(parts, account.max_parts)
    except codec.TooManyParts as exc:
        raise too_many_parts(exc) from exc


class MessageService:
    """Accepts outbound messages (REST, batches; later SMPP and the compat dialects)."""

    def __init__(
        self,
        store: StorePort,
        clock: Clock,
        *,
        default_validity_s: int,
        default_sender: str,
        wake_dispatcher: Callable[[], None] = lambda: None,
        suppressed: Suppressed | None = None,
        handoff: Handoff | None = None,
        number_owners: NumberOwners | None = None,
        send_at_skew_s: float = 300.0,
    ) -> None:
        self._store = store
        self._clock = clock
        self._default_validity_s = default_validity_s
        self._default_sender = default_sender
        self._wake = wake_dispatcher
        self._refs = itertools.cycle(range(1, 256))
        # The account's suppression list (two-way opt-outs); None: no opt-out policy.
        self._suppressed = suppressed
        # The dispatcher, when this process runs it: due messages skip the claim (ports.py).
        self._handoff = handoff
        # Who holds each number; None: no number is anyone's (no sender check).
        self._number_owners = number_owners
        # A send_at this far in the past is the client's clock running late: sent at once.
        self._send_at_skew_s = send_at_skew_s

    def build(
        self,
        account: Account,
        req: SendRequest,
        now: float,
        *,
        batch_id: str | None = None,
        idempotency: tuple[str, str] | None = None,
        origin: str = "api",
        receipt: int = 0,
    ) -> NewMessage:
        """Validate and encode one request into the rows to commit; raises DomainError.

        `origin` is where it came from (api, smpp, …); `receipt` the SMPP registered_delivery
        of an SMPP submission (whether the ESME wants a deliver_sm receipt)."""
        try:
            to = normalize(req.to, account.default_country or None)
        except InvalidNumber as exc:
            raise InvalidNumber(exc.message, field="to") from exc
        sender = parse_sender(req.sender or self._default_sender)
        if not isinstance(req.text, str) or req.text == "":
            raise InvalidRequest("text must not be empty", field="text")
        if req.category not in CATEGORIES:
            raise InvalidRequest("category must be transactional or marketing", field="category")
        if req.encoding not in ENCODINGS:
            raise InvalidRequest("encoding must be auto, gsm7 or ucs2", field="encoding")
        validity = self._default_validity_s if req.validity_s is None else req.validity_s
        if not MIN_VALIDITY_S <= validity <= MAX_VALIDITY_S:
            raise InvalidRequest(
                f"validity_s must be between {MIN_VALIDITY_S} and {MAX_VALIDITY_S}",
                field="validity_s",
            )
        if req.send_at is not None and req.send_at > now + MAX_SCHEDULE_S:
            raise InvalidRequest("send_at is too far in the future", field="send_at")
        if req.send_at is not None and req.send_at < now - self._send_at_skew_s:
            raise InvalidRequest(
                f"send_at is more than {self._send_at_skew_s:g} s in the past; "
                "leave it out to send at once",
                field="send_at",
            )
        callback_url = check_callback_url(req.callback_url)
        if req.reference is not None and len(req.reference) > 200:
            raise InvalidRequest("reference has at most 200 characters", field="reference")
        try:
            split = codec.split(
                req.text,
                encoding=req.encoding,
                concat=codec.Concat.UDH8,
                ref=next(self._refs),
                max_parts=account.max_parts,
                transliterate=req.transliterate,
            )
        except codec.TooManyParts as exc:
            raise too_many_parts(exc) from exc
        except codec.EncodingError as exc:
            raise InvalidRequest(
                "the text has characters that GSM-7 cannot carry: " + "".join(exc.chars),
                field="text",
            ) from exc
        scheduled = req.send_at is not None and req.send_at > now
        start = req.send_at if scheduled and req.send_at is not None else now
        status = (Status.SCHEDULED if scheduled else Status.QUEUED).value
        message = Message(
            id=new_id("msg", now),
            account_id=account.id,
            direction="outbound",
            to_addr=to.e164,
            from_addr=sender.display,
            from_ton=sender.ton,
            from_npi=sender.npi,
            text=split.text,
            status=status,
            category=req.category,
            encoding=split.encoding.value,
            parts=len(split.parts),
            reference=req.reference,
            batch_id=batch_id,
            callback_url=callback_url,
            valid_until=start + validity,
            scheduled_at=req.send_at if scheduled else None,
            created_at=now,
            updated_at=now,
            source=origin,
            receipt_requested=receipt,
        )
        data_coding = DATA_CODING[split.encoding]
        parts = tuple(
            Part(
                message_id=message.id,
                seq=p.seq,
                total=p.total,
                status=status,
                short_message=p.short_message,
                esm_class=UDHI if p.udh else 0,
                data_coding=data_coding,
                sar_ref=None,
                # The submit_sm that carried every part asked this (0 outside SMPP).
                receipt_requested=receipt,
            )
            for p in split.parts
        )
        event = StatusEvent(
            message_id=message.id,
            seq=None,
            status=status,
            error_code=None,
            detail=None,
            created_at=now,
        )
        return NewMessage(
            message=message,
            parts=parts,
            due_at=start,
            events=(event,),
            idempotency=idempotency,
        )

    def wake(self) -> None:
        """Tell the dispatcher that messages are due now."""
        self._wake()

    async def commit(self, new: NewMessage) -> None:
        """Commit a message built by `build` (for callers that build their own requests)."""
        await self._accept([new])

    async def _accept(self, built: Sequence[NewMessage], *, batch: Batch | None = None) -> None:
        """Commit; the messages due now go straight to the dispatcher of this process when it
        can take them (written as its claim would leave them), else through the queue."""
        now = self._clock.now()
        due = [b for b in built if b.due_at is not None and b.due_at <= now]
        handoff = self._handoff
        slot = None
        if due and handoff is not None:
            slot = handoff.reserve(sum(len(b.parts) for b in due), now)
        if handoff is None or slot is None:
            await self._store.accept(built, batch=batch)
            self._wake()
            return
        # Written as the dispatcher's claim would leave them (records.py NewMessage).
        claimed = {b.message.id: replace(b, claimed_until=slot.claimed_until) for b in due}
        taken = [
            DueMessage(message=b.message, parts=b.parts, attempts={p.seq: 0 for p in b.parts})
            for b in due
        ]
        try:
            await self._store.accept(
                [claimed.get(b.message.id, b) for b in built],
                batch=batch,
                # After the commit, even if this caller was canceled meanwhile.
                after_commit=lambda: handoff.take(slot, taken),
            )
        except BaseException:
            handoff.release(slot)
            raise

    async def send(
        self, account: Account, req: SendRequest, *, idempotency_key: str | None = None
    ) -> tuple[Message, bool]:
        """Commit one message; returns (message, created). Replays return the first result."""
        now = self._clock.now()
        idem = None
        if idempotency_key is not None:
            if not 1 <= len(idempotency_key) <= 255:
                raise InvalidRequest(
                    "Idempotency-Key has 1 to 255 characters", field="Idempotency-Key"
                )
            idem = (idempotency_key, req.fingerprint())
            replay = await self._replay(account, idem)
            if replay is not None:
                return replay, False
        new = self.build(account, req, now, idempotency=idem)
        await self.check_sender(account, new.message.from_addr, now)
        new = (await self._apply_optouts(account, [new], now))[0]
        try:
            await self._accept([new])
        except StoreConflict:
            if idem is not None:
                replay = await self._replay(account, idem)
                if replay is not None:
                    return replay, False
            raise
        return new.message, True

    async def _replay(self, account: Account, idem: tuple[str, str]) -> Message | None:
        found = await self._store.find_idempotent(account.id, idem[0])
        if found is None:
            return None
        request_hash, message_id = found
        if request_hash != idem[1]:
            raise Conflict(
                "this Idempotency-Key was used with a different request", field="Idempotency-Key"
            )
        return await self._store.get_message(message_id, account.id)

    async def send_batch(
        self, account: Account, reqs: Sequence[SendRequest], *, reference: str | None = None
    ) -> tuple[Batch, list[Message]]:
        """Many recipients in one transaction: all are valid and committed, or none is."""
        now = self._clock.now()
        batch = Batch(
            id=new_id("bat", now),
            account_id=account.id,
            total=len(reqs),
            reference=reference,
            created_at=now,
        )
        batch_id = batch.id
        built = []
        for index, req in enumerate(reqs):
            try:
                built.append(self.build(account, req, now, batch_id=batch_id))
            except InvalidRequest as exc:
                raise type(exc)(
                    f"recipient {index}: {exc.message}", field=f"messages[{index}].{exc.field}"
                ) from exc
            except Exception as exc:
                field = getattr(exc, "field", None) or "to"
                message = getattr(exc, "message", str(exc))
                raise InvalidRequest(
                    f"recipient {index}: {message}", field=f"messages[{index}].{field}"
                ) from exc
        for sender in {b.message.from_addr for b in built}:
            await self.check_sender(account, sender, now)
        built = await self._apply_optouts(account, built, now)
        await self._accept(built, batch=batch)
        return batch, [b.message for b in built]

    async def check_sender(self, account: Account, sender: str, now: float) -> None:
        """Refuse a numeric sender that is a number assigned to other accounts only: its
        replies would land in their threads (SenderNotAllowed)."""
        digits = sender[1:] if sender.startswith("+") else sender
        if self._number_owners is None or not (digits.isascii() and digits.isdigit()):
            return
        # Numbers are kept as E.164 or, up to 8 digits, as short codes (two_way.canonical).
        number = "+" + digits if len(digits) > 8 else sender
        owners = await self._number_owners(number, now=now)
        if owners and account.id not in owners:
            raise SenderNotAllowed("this number belongs to another account", field="from")

    async def _apply_optouts(
        self, account: Account, built: list[NewMessage], now: float
    ) -> list[NewMessage]:
        """Marketing to a number on the account's suppression list is committed as rejected
        (error `opted_out`), with no queue row (DESIGN.md §2, §6); transactional still goes."""
        marketing = [b.message.to_addr for b in built if b.message.category == "marketing"]
        if self._suppressed is None or not marketing:
            return built
        stopped = await self._suppressed(account.id, marketing)
        if not stopped:
            return built
        hooks = await self._store.webhooks_for(account.id, now=now)
        return [
            _opted_out(b, hooks, now)
            if b.message.category == "marketing" and b.message.to_addr in stopped
            else b
            for b in built
        ]

    async def cancel(self, account: Account, message_id: str) -> Message:
        message = await self._store.get_message(message_id, account.id)
        if message is None:
            raise NotFound("no such message", field="id")
        if message.status not in CANCELABLE:
            raise Conflict(f"a {message.status} message cannot be canceled", field="id")
        now = self._clock.now()
        if not await self._store.cancel_unclaimed(message.id, now=now):
            raise Conflict("the message is being sent and can no longer be canceled", field="id")
        hooks = await self._store.webhooks_for(account.id, now=now)
        canceled = replace(message, status=Status.CANCELED.value, updated_at=now)
        await self._store.apply(
            [
                *(
                    PartChange(message_id=message.id, seq=seq, status=Status.CANCELED, done_at=now)
                    for seq in range(1, message.parts + 1)
                ),
                MessageChange(message_id=message.id, status=Status.CANCELED, updated_at=now),
                StatusEvent(
                    message_id=message.id,
                    seq=None,
                    status=Status.CANCELED,
                    error_code=None,
                    detail="canceled by the user",
                    created_at=now,
                ),
                *deliveries_for(MESSAGE_STATUS, canceled, hooks, now),
            ]
        )
        return canceled


def _opted_out(new: NewMessage, hooks: tuple[Webhook, ...], now: float) -> NewMessage:
    message = replace(
        new.message,
        status=Status.REJECTED.value,
        error_code=OPTED_OUT,
        error_message="the recipient opted out of marketing messages",
    )
    event = StatusEvent(
        message_id=message.id,
        seq=None,
        status=Status.REJECTED.value,
        error_code=OPTED_OUT,
        detail=message.error_message,
        created_at=now,
    )
    return replace(
        new,
        message=message,
        parts=tuple(replace(p, status=Status.REJECTED.value) for p in new.parts),
        due_at=None,
        events=(event,),
        deliveries=deliveries_for(MESSAGE_STATUS, message, hooks, now),
    )

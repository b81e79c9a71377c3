"""Managing two-way messaging through the API: numbers (admin assigns), keyword rules, the
suppression list and conversations. Every call is scoped to the caller's account; objects of
other accounts are "not found"."""

from __future__ import annotations

from dataclasses import dataclass

from smsgate.domain.errors import InvalidNumber, InvalidRequest
from smsgate.domain.keywords import Intent, check_keyword, intent_of
from smsgate.domain.numbers import normalize
from smsgate.services.clock import Clock
from smsgate.services.errors import Conflict, NotFound
from smsgate.services.ids import new_id
from smsgate.services.messages import check_callback_url
from smsgate.services.records import Account, Message
from smsgate.services.store_port import StorePort
from smsgate.services.two_way import Reply, TwoWayService, canonical
from smsgate.services.two_way_records import (
    Action,
    Conversation,
    KeywordRule,
    Number,
    NumberKind,
    OptOut,
    TwoWayStorePort,
    Unrouted,
)

MAX_REPLY_CHARS = 1000
CATCH_ALL = ("", "*")


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleRequest:
    number: str
    keyword: str | None  # None, "" or "*": the number's catch-all
    action: str
    reply_text: str | None = None
    forward_url: str | None = None


def parse_number(raw: str) -> tuple[str, NumberKind]:
    """A number to assign: E.164 (long code) or 3-8 digits (short code)."""
    text = raw.strip().replace(" ", "")
    digits = text[1:] if text.startswith("+") else text
    if digits.isdigit() and 3 <= len(digits) <= 8 and not text.startswith("+"):
        return digits, NumberKind.SHORT
    try:
        return normalize(text if text.startswith("+") else "+" + text).e164, NumberKind.LONG
    except InvalidNumber as exc:
        raise InvalidNumber(
            "a number is E.164 (+ and country code) or a short code of 3 to 8 digits",
            field="number",
        ) from exc


def parse_peer(raw: str, account: Account, field: str = "number") -> str:
    """A phone number as the account writes it (national with its default country, or
    international), in E.164."""
    try:
        return normalize(raw, account.default_country or None).e164
    except InvalidNumber as exc:
        raise InvalidNumber(exc.message, field=field) from exc


class TwoWayManager:
    """The use cases behind /numbers, /keywords, /optouts and /conversations."""

    def __init__(
        self, store: StorePort, two_way: TwoWayStorePort, service: TwoWayService, clock: Clock
    ) -> None:
        self._store = store
        self._repo = two_way
        self._service = service
        self._clock = clock

    # ---- numbers -------------------------------------------------------------------------

    async def assign_number(
        self, raw: str, *, account_id: str, shared: bool = False, description: str = ""
    ) -> Number:
        if await self._store.get_account(account_id) is None:
            raise NotFound("no such account", field="account_id")
        number, kind = parse_number(raw)
        if shared and kind is not NumberKind.SHORT:
            raise InvalidRequest("only short codes can be shared", field="shared")
        now = self._clock.now()
        return await self._repo.create_number(
            Number(
                id=new_id("num", now),
                number=number,
                kind=kind.value,
                account_id=account_id,
                shared=shared,
                description=description,
                created_at=now,
            )
        )

    async def numbers(self, account: Account) -> list[Number]:
        return await self._repo.list_numbers(None if account.is_admin else account.id)

    async def number(self, account: Account, number_id: str) -> Number:
        found = await self._repo.get_number(number_id, None if account.is_admin else account.id)
        if found is None:
            raise NotFound("no such number", field="id")
        return found

    async def unassign_number(self, number_id: str) -> None:
        if not await self._repo.delete_number(number_id):
            raise NotFound("no such number", field="id")

    async def unrouted(self, *, limit: int, before: str | None = None) -> list[Unrouted]:
        return await self._repo.list_unrouted(limit=limit, before=before)

    async def _own_number(self, account: Account, raw: str) -> Number:
        try:
            number = parse_number(raw)[0]
        except InvalidNumber:
            number = raw
        for row in await self._repo.numbers_for(number):
            if row.account_id == account.id:
                return row
        raise NotFound("this account has no such number", field="number")

    # ---- keyword rules -------------------------------------------------------------------

    async def add_rule(self, account: Account, req: RuleRequest) -> KeywordRule:
        number = await self._own_number(account, req.number)
        raw = (req.keyword or "").strip()
        try:
            keyword = "" if raw in CATCH_ALL else check_keyword(raw)
        except ValueError as exc:
            raise InvalidRequest(str(exc), field="keyword") from exc
        try:
            action = Action(req.action)
        except ValueError as exc:
            raise InvalidRequest(
                "action is reply, forward, optout, optin or help", field="action"
            ) from exc
        if keyword == "" and number.shared:
            raise InvalidRequest("a shared short code has no catch-all", field="keyword")
        if intent_of(keyword) is Intent.OPT_OUT and action is not Action.OPT_OUT:
            raise InvalidRequest("opt-out words always opt out", field="action")
        self._check_texts(action, req)
        now = self._clock.now()
        return await self._repo.create_rule(
            KeywordRule(
                id=new_id("kw", now),
                account_id=account.id,
                number_id=number.id,
                number=number.number,
                keyword=keyword,
                display=raw.upper() if keyword else "*",
                action=action.value,
                reply_text=req.reply_text,
                forward_url=check_callback_url(req.forward_url, field="forward_url")
                if action is Action.FORWARD
                else None,
                created_at=now,
            )
        )

    @staticmethod
    def _check_texts(action: Action, req: RuleRequest) -> None:
        if req.reply_text is not None and not 1 <= len(req.reply_text) <= MAX_REPLY_CHARS:
            raise InvalidRequest(
                f"reply_text has 1 to {MAX_REPLY_CHARS} characters", field="reply_text"
            )
        if action is Action.REPLY and not req.reply_text:
            raise InvalidRequest("a reply rule needs reply_text", field="reply_text")
        if action is Action.FORWARD:
            if not req.forward_url:
                raise InvalidRequest("a forward rule needs forward_url", field="forward_url")
            check_callback_url(req.forward_url, field="forward_url")

    async def rules(self, account: Account, number: str | None = None) -> list[KeywordRule]:
        wanted = None if number is None else (await self._own_number(account, number)).number
        return await self._repo.list_rules(account.id, number=wanted)

    async def rule(self, account: Account, rule_id: str) -> KeywordRule:
        found = await self._repo.get_rule(account.id, rule_id)
        if found is None:
            raise NotFound("no such keyword rule", field="id")
        return found

    async def remove_rule(self, account: Account, rule_id: str) -> None:
        if not await self._repo.delete_rule(account.id, rule_id):
            raise NotFound("no such keyword rule", field="id")

    # ---- suppression list ----------------------------------------------------------------

    async def add_optout(self, account: Account, raw: str) -> tuple[OptOut, bool]:
        entry = OptOut(
            account_id=account.id,
            number=parse_peer(raw, account),
            source="api",
            keyword=None,
            created_at=self._clock.now(),
        )
        created = await self._repo.add_optout(entry)
        if not created:
            existing = await self._repo.get_optout(account.id, entry.number)
            return (existing or entry), False
        return entry, True

    async def optout(self, account: Account, raw: str) -> OptOut:
        found = await self._repo.get_optout(account.id, parse_peer(raw, account))
        if found is None:
            raise NotFound("this number is not on the suppression list", field="number")
        return found

    async def remove_optout(self, account: Account, raw: str) -> None:
        if not await self._repo.remove_optout(account.id, parse_peer(raw, account)):
            raise NotFound("this number is not on the suppression list", field="number")

    async def optouts(
        self, account: Account, *, limit: int, after: str | None = None
    ) -> list[OptOut]:
        return await self._repo.list_optouts(account.id, limit=limit, after=after)

    # ---- conversations -------------------------------------------------------------------

    async def conversations(
        self, account: Account, *, limit: int, before: str | None, number: str | None
    ) -> list[Conversation]:
        own = None if number is None else (await self._own_number(account, number)).number
        return await self._repo.list_conversations(
            account.id, limit=limit, before=before, number=own
        )

    async def conversation(
        self, account: Account, peer: str, *, number: str | None = None
    ) -> Conversation:
        own = None if number is None else (await self._own_number(account, number)).number
        try:
            wanted = parse_peer(peer, account, field="peer")
        except InvalidNumber:
            wanted = canonical(peer)
        found = await self._repo.find_conversation(account.id, wanted, number=own)
        if found is None:
            raise NotFound("no conversation with this number", field="peer")
        return found

    async def read_thread(
        self, account: Account, conversation: Conversation, *, limit: int, before: str | None
    ) -> list[Message]:
        """The thread's messages, newest first; reading the first page marks it read."""
        messages = await self._repo.thread(
            account.id, conversation.number, conversation.peer, limit=limit, before=before
        )
        if before is None and conversation.unread:
            await self._repo.mark_read(conversation.id, now=self._clock.now())
        return messages

    async def reply(self, account: Account, conversation: Conversation, text: str) -> Message:
        """Send `text` to the peer from the number the peer wrote to."""
        if not text:
            raise InvalidRequest("text must not be empty", field="text")
        sent = await self._service.send_reply(
            Reply(account=account, to=conversation.peer, sender=conversation.number, text=text),
            raise_errors=True,
        )
        if sent is None:  # pragma: no cover - raise_errors=True raises instead
            raise Conflict("the reply could not be sent", field="text")
        return sent

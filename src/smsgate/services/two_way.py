"""Two-way messaging (DESIGN.md §3, §6): which account an inbound message is for, what its
keyword asks, and the replies.

An inbound message goes to the account that owns its destination number. On a shared short
code the first word (or, for "STOP PIZZA", the word after the command) names a keyword of one
account; a bare STOP there opts out of every account on the code. A message no account takes
is kept as *unrouted* for the admin.

Per account, in this order:
1. a STOP-type message opts the sender out of marketing at once (no rule can stop that; an
   `optout` rule on the same word only changes the confirmation text);
2. a keyword rule whose keyword is the first word does its action;
3. START-type words opt a suppressed sender back in; HELP-type words answer with the help text;
4. the number's catch-all rule, if any.

Opt-outs, opt-ins, forwards and `message.inbound` webhooks are committed with the message
itself; replies are sent afterwards through `MessageService` like any send (transactional,
from the number the peer wrote to), so a crash between the two loses a reply, never the
message.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from smsgate.domain.errors import DomainError
from smsgate.domain.keywords import Command, Intent, first_word, parse_command, render
from smsgate.domain.states import Status
from smsgate.services.clock import Clock
from smsgate.services.events import MESSAGE_INBOUND, fan_out
from smsgate.services.ids import new_id
from smsgate.services.messages import SendRequest
from smsgate.services.records import (
    Account,
    Change,
    Message,
    NewDelivery,
    StatusEvent,
    Webhook,
)
from smsgate.services.store_port import StorePort
from smsgate.services.two_way_records import (
    Action,
    KeywordRule,
    Number,
    OptOut,
    Received,
    TwoWayStorePort,
    Unrouted,
)
from smsgate.services.views import message_view

log = logging.getLogger(__name__)

OPT_OUT_TEXT = (
    "You are unsubscribed from {account} and will get no more marketing messages. "
    "Reply START to subscribe again."
)
OPT_IN_TEXT = "You are subscribed to {account} again. Reply STOP to unsubscribe."
HELP_TEXT = "{account}: reply STOP to unsubscribe, START to subscribe again."
ENCODINGS = {0: "gsm7", 1: "ascii", 3: "latin1", 8: "ucs2"}

Listener = Callable[[Message], Sequence[Change]]
# MessageService.send: replies go through the same pipeline (and policies) as any send.
Send = Callable[[Account, SendRequest], Awaitable[tuple[Message, bool]]]


def canonical(address: str) -> str:
    """How numbers are kept: international numbers as E.164 with '+', short codes and
    alphanumeric senders as written."""
    digits = address[1:] if address.startswith("+") else address
    if digits.isdigit() and len(digits) > 8:
        return "+" + digits
    return address


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundText:
    """One whole inbound message (reassembled if it came in parts)."""

    connector: str
    source: str
    destination: str
    text: str
    data_coding: int
    parts: int
    incomplete: bool = False
    received_at: float


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action | None
    rule: KeywordRule | None
    keyword: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    account: Account
    to: str
    sender: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What storing one inbound message writes (in one commit) and then sends."""

    received: tuple[Received, ...]
    unrouted: Unrouted | None
    replies: tuple[Reply, ...]

    @property
    def has_deliveries(self) -> bool:
        return any(r.deliveries for r in self.received)


def decide(
    text: str, rules: Sequence[KeywordRule], *, suppressed: bool, command: Command | None
) -> Decision:
    """The action for one account's message (pure; see the module docstring for the order)."""
    by_keyword = {r.keyword: r for r in rules}
    if command is not None and command.intent is Intent.OPT_OUT:
        rule = by_keyword.get(command.phrase)
        custom = rule if rule is not None and rule.action == Action.OPT_OUT else None
        return Decision(Action.OPT_OUT, custom, command.phrase)
    word = first_word(text)
    rule = by_keyword.get(word) if word else None
    if rule is not None:
        return Decision(Action(rule.action), rule, word)
    if command is not None and (not command.program or command.program in by_keyword):
        if command.intent is Intent.OPT_IN and suppressed:
            return Decision(Action.OPT_IN, None, command.phrase)
        if command.intent is Intent.HELP:
            return Decision(Action.HELP, None, command.phrase)
    catch_all = by_keyword.get("")
    if catch_all is not None:
        return Decision(Action(catch_all.action), catch_all, "")
    return Decision(None, None, "")


def inbound_deliveries(
    message: Message,
    hooks: Sequence[Webhook],
    *,
    forward_url: str | None,
    keyword: str,
    action: str | None,
    now: float,
) -> tuple[NewDelivery, ...]:
    """One signed `message.inbound` event to the account's subscribers and a `forward` URL
    (signed with the account's secret, as a message's callback_url is)."""
    data = {**message_view(message), "keyword": keyword or None, "action": action}
    return fan_out(MESSAGE_INBOUND, message, hooks, now, extra_url=forward_url, data=data)


class TwoWayService:
    """Routes inbound messages to accounts, applies keyword rules, sends the replies."""

    def __init__(
        self,
        store: StorePort,
        two_way: TwoWayStorePort,
        clock: Clock,
        *,
        send: Send,
        wake_webhooks: Callable[[], None] = lambda: None,
        listeners: Sequence[Listener] = (),
    ) -> None:
        self._store = store
        self._two_way = two_way
        self._send = send
        self._clock = clock
        self._wake_webhooks = wake_webhooks
        # Listeners add their own rows to a received message's commit (SMPP deliver_sm).
        self.listeners: tuple[Listener, ...] = tuple(listeners)
        self.unrouted = 0

    async def plan(self, mo: InboundText) -> Plan:
        """Decide everything about one inbound message (reads only)."""
        number = canonical(mo.destination)
        rows = await self._two_way.numbers_for(number)
        if not rows:
            return self._unrouted(mo, "no_number")
        command = parse_command(mo.text)
        if len(rows) == 1 and not rows[0].shared:
            owners = [rows[0]]
            rules = await self._two_way.rules_for(number)
        else:
            rules = await self._two_way.rules_for(number)
            owners = _shared_owners(rows, rules, mo.text, command)
            if not owners:
                return self._unrouted(mo, "no_keyword")
        received: list[Received] = []
        replies: list[Reply] = []
        for index, row in enumerate(owners):
            account = await self._store.get_account(row.account_id)
            if account is None:  # pragma: no cover - numbers reference accounts
                continue
            own_rules = [r for r in rules if r.account_id == account.id]
            item, reply = await self._for_account(mo, account, row, own_rules, command)
            received.append(item)
            # One confirmation for a bare STOP on a shared code, however many accounts.
            if reply is not None and (index == 0 or item.optout is None):
                replies.append(reply)
        return Plan(received=tuple(received), unrouted=None, replies=tuple(replies))

    def _unrouted(self, mo: InboundText, reason: str) -> Plan:
        self.unrouted += 1
        log.warning("inbound message for %s: %s; kept as unrouted", mo.destination, reason)
        entry = Unrouted(
            id=new_id("unr", mo.received_at),
            connector=mo.connector,
            source=canonical(mo.source),
            destination=canonical(mo.destination),
            text=mo.text,
            reason=reason,
            error_code="incomplete" if mo.incomplete else None,
            received_at=mo.received_at,
        )
        return Plan(received=(), unrouted=entry, replies=())

    async def _for_account(
        self,
        mo: InboundText,
        account: Account,
        number: Number,
        rules: Sequence[KeywordRule],
        command: Command | None,
    ) -> tuple[Received, Reply | None]:
        now = mo.received_at
        peer = canonical(mo.source)
        suppressed = await self._two_way.is_suppressed(account.id, peer)
        decision = decide(mo.text, rules, suppressed=suppressed, command=command)
        message = Message(
            id=new_id("msg", now),
            account_id=account.id,
            direction="inbound",
            to_addr=number.number,
            from_addr=peer,
            from_ton=1 if peer.startswith("+") else 0,
            from_npi=1 if peer.startswith("+") else 0,
            text=mo.text,
            status=Status.RECEIVED.value,
            category="transactional",
            encoding=ENCODINGS.get(mo.data_coding, ""),
            parts=mo.parts,
            error_code="incomplete" if mo.incomplete else None,
            error_message="some parts never arrived" if mo.incomplete else None,
            connector=mo.connector,
            source="mo",
            created_at=now,
            updated_at=now,
        )
        rule = decision.rule
        hooks = await self._store.webhooks_for(account.id, now=now)
        forward = (
            rule.forward_url if rule is not None and decision.action is Action.FORWARD else None
        )
        event = StatusEvent(
            message_id=message.id,
            seq=None,
            status=Status.RECEIVED.value,
            error_code=message.error_code,
            detail=f"keyword {decision.keyword}: {decision.action}" if decision.action else None,
            created_at=now,
        )
        extra = tuple(change for listener in self.listeners for change in listener(message))
        received = Received(
            message=message,
            deliveries=inbound_deliveries(
                message,
                hooks,
                forward_url=forward,
                keyword=decision.keyword,
                action=decision.action,
                now=now,
            ),
            optout=OptOut(
                account_id=account.id,
                number=peer,
                source="keyword",
                keyword=decision.keyword,
                created_at=now,
            )
            if decision.action is Action.OPT_OUT
            else None,
            optin=peer if decision.action is Action.OPT_IN else None,
            changes=(event, *extra),
        )
        text = _reply_text(decision, account, mo.text, peer)
        reply = Reply(account=account, to=peer, sender=number.number, text=text) if text else None
        return received, reply

    async def carry_out(self, plan: Plan) -> None:
        """After the commit: wake the webhook sender and send the replies."""
        if plan.has_deliveries:
            self._wake_webhooks()
        for reply in plan.replies:
            # The message is committed: failing here would make the SMSC deliver it again
            # (and store it twice), so a reply that cannot be sent is logged, not raised.
            try:
                await self.send_reply(reply)
            except Exception:
                log.exception("a reply to an inbound message could not be sent")

    async def send_reply(self, reply: Reply, *, raise_errors: bool = False) -> Message | None:
        """Send one reply as a transactional message; None when it cannot be sent (say, the
        peer is an alphanumeric sender) unless `raise_errors` asks for the DomainError."""
        try:
            message, _ = await self._send(
                reply.account,
                SendRequest(to=reply.to, sender=reply.sender, text=reply.text),
            )
        except DomainError as exc:
            if raise_errors:
                raise
            log.warning("no reply sent to an inbound message: %s", exc.code)
            return None
        await self._two_way.note_outbound(message, now=self._clock.now())
        return message


def _shared_owners(
    rows: Sequence[Number], rules: Sequence[KeywordRule], text: str, command: Command | None
) -> list[Number]:
    """The accounts a message to a shared short code is for."""
    by_account = {r.account_id: r for r in rows}
    word = command.program if command is not None and command.program else first_word(text)
    for rule in rules:
        if rule.keyword and rule.keyword == word and rule.account_id in by_account:
            return [by_account[rule.account_id]]
    if command is not None and command.intent is Intent.OPT_OUT and not command.program:
        return list(rows)  # a bare STOP on a shared code stops every program on it
    return []


def _reply_text(decision: Decision, account: Account, text: str, peer: str) -> str | None:
    rule = decision.rule
    custom = rule.reply_text if rule is not None else None
    fields = {"sender": peer, "text": text, "keyword": decision.keyword.upper()}
    if decision.action is Action.REPLY:
        return render(custom, **fields) if custom else None
    defaults = {
        Action.OPT_OUT: OPT_OUT_TEXT,
        Action.OPT_IN: OPT_IN_TEXT,
        Action.HELP: account.help_text or HELP_TEXT,
    }
    if decision.action not in defaults:
        return None
    template = custom or defaults[decision.action]
    return render(template, **fields).replace("{account}", account.name)

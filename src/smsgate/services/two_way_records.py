"""Records of two-way messaging (numbers, keyword rules, opt-outs, conversations, pending
inbound parts) and the store port the two-way services need.

Times are UNIX seconds (floats), as in `records.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from smsgate.services.records import Change, Message, NewDelivery


class NumberKind(StrEnum):
    LONG = "long"  # an E.164 number (a "long code")
    SHORT = "short"  # 3-8 digits, national


class Action(StrEnum):
    """What a keyword rule does with a matching inbound message."""

    REPLY = "reply"
    FORWARD = "forward"
    OPT_OUT = "optout"
    OPT_IN = "optin"
    HELP = "help"


@dataclass(frozen=True, slots=True, kw_only=True)
class Number:
    """A number assigned to an account. A shared short code has one row per account
    sharing it (`shared` set on each); keywords decide which account a message is for."""

    id: str
    number: str  # "+359888123456" or "1234"
    kind: str  # NumberKind
    account_id: str
    shared: bool
    description: str
    created_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class KeywordRule:
    id: str
    account_id: str
    number_id: str
    number: str
    keyword: str  # normalised; "" is the catch-all
    display: str  # as the account wrote it
    action: str  # Action
    reply_text: str | None
    forward_url: str | None
    created_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class OptOut:
    account_id: str
    number: str
    source: str  # keyword | api
    keyword: str | None
    created_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Conversation:
    """The thread of one account number with one peer; `unread` counts inbound messages
    since the thread was last read."""

    id: str
    account_id: str
    number: str
    peer: str
    unread: int
    last_message_id: str
    last_direction: str
    last_text: str
    last_at: float
    created_at: float
    read_at: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PartKey:
    """What identifies the parts of one concatenated inbound message (TS 23.040 §9.2.3.24.1:
    the reference is unique per originator; the SMSC link and recipient narrow it further)."""

    connector: str
    source: str
    destination: str
    ref: int
    total: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingParts:
    """The parts of one concatenated message received so far."""

    key: PartKey
    texts: dict[int, str]  # seq → text
    data_coding: int
    first_at: float

    @property
    def complete(self) -> bool:
        return len(self.texts) >= self.key.total

    def joined(self) -> str:
        return "".join(self.texts[seq] for seq in sorted(self.texts))


@dataclass(frozen=True, slots=True, kw_only=True)
class Unrouted:
    """An inbound message no account could take (unknown number, or no keyword matched on a
    shared short code): kept for the admin, never silently dropped."""

    id: str
    connector: str
    source: str
    destination: str
    text: str
    reason: str  # no_number | no_keyword
    error_code: str | None
    received_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Received:
    """Everything storing one inbound message for one account writes in one commit."""

    message: Message
    deliveries: tuple[NewDelivery, ...]
    optout: OptOut | None = None  # add this entry
    optin: str | None = None  # remove the entry of this peer
    # Its status event and whatever listeners contribute (e.g. the SMPP server's deliver_sm).
    changes: tuple[Change, ...] = ()


class TwoWayStorePort(Protocol):
    """What the two-way services need from the store (adapters/store/two_way.py)."""

    async def add_part(
        self, key: PartKey, seq: int, text: str, data_coding: int, *, now: float
    ) -> PendingParts | None: ...

    async def finish_parts(
        self, key: PartKey, received: Sequence[Received], unrouted: Unrouted | None, *, now: float
    ) -> bool: ...

    async def store_received(
        self, received: Sequence[Received], unrouted: Unrouted | None
    ) -> None: ...

    async def pending_parts(self, *, older_than: float | None) -> list[PendingParts]: ...

    async def purge_parts(self, *, before: float) -> int: ...

    async def numbers_for(self, number: str) -> list[Number]: ...

    async def rules_for(self, number: str) -> list[KeywordRule]: ...

    async def is_suppressed(self, account_id: str, number: str) -> bool: ...

    async def suppressed(self, account_id: str, numbers: Sequence[str]) -> set[str]: ...

    async def note_outbound(self, message: Message, *, now: float) -> None: ...

    # -- managed through the API (services/two_way_manage.py) --

    async def create_number(self, number: Number) -> Number: ...

    async def list_numbers(self, account_id: str | None) -> list[Number]: ...

    async def get_number(self, number_id: str, account_id: str | None) -> Number | None: ...

    async def delete_number(self, number_id: str) -> bool: ...

    async def create_rule(self, rule: KeywordRule) -> KeywordRule: ...

    async def list_rules(
        self, account_id: str, *, number: str | None = None
    ) -> list[KeywordRule]: ...

    async def get_rule(self, account_id: str, rule_id: str) -> KeywordRule | None: ...

    async def delete_rule(self, account_id: str, rule_id: str) -> bool: ...

    async def add_optout(self, entry: OptOut) -> bool: ...

    async def remove_optout(self, account_id: str, number: str) -> bool: ...

    async def get_optout(self, account_id: str, number: str) -> OptOut | None: ...

    async def list_optouts(
        self, account_id: str, *, limit: int, after: str | None = None
    ) -> list[OptOut]: ...

    async def list_conversations(
        self, account_id: str, *, limit: int, before: str | None = None, number: str | None = None
    ) -> list[Conversation]: ...

    async def find_conversation(
        self, account_id: str, peer: str, *, number: str | None = None
    ) -> Conversation | None: ...

    async def mark_read(self, conversation_id: str, *, now: float) -> None: ...

    async def thread(
        self, account_id: str, number: str, peer: str, *, limit: int, before: str | None = None
    ) -> list[Message]: ...

    async def list_unrouted(self, *, limit: int, before: str | None = None) -> list[Unrouted]: ...

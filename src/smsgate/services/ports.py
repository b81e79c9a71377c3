"""Ports: what the services need from the outside world (typing.Protocol), and the values
that cross them.

Connectors (SMPP today; UCP, CIMD2, HTTP and modems later) implement `Connector`; the gateway
implements `ConnectorEvents` so a connector can hand over delivery receipts and inbound
messages. A connector answers the SMSC (deliver_sm_resp) only after the handler returned,
which is after the commit: a receipt or an inbound message acknowledged is never lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from smsgate.domain.states import Status
from smsgate.services.records import (
    Account,
    ApiKey,
    Delivery,
    DueMessage,
    Message,
    SmppCredentials,
    Webhook,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboundPart:
    """One SMS segment to submit, fully encoded (DESIGN.md §5). Protocol-neutral: each
    connector derives its own address types (SMPP TON/NPI) from `source` and `destination`."""

    part_id: str  # "<message id>.<seq>"
    message_id: str
    seq: int
    total: int
    source: str  # the sender as shown: "+<digits>" (international), digits, or alphanumeric
    destination: str  # international digits without '+'
    short_message: bytes  # UDH (if any) + payload
    udh: bool = False  # short_message starts with a user data header (TS 23.040 TP-UDHI)
    data_coding: int  # the TS 23.038 data coding scheme of the payload
    registered_delivery: bool = True
    validity_until: datetime | None = None
    # SAR concatenation instead of UDH: (reference, total, seq); None otherwise.
    sar: tuple[int, int, int] | None = None


class OutcomeKind(StrEnum):
    OK = "ok"  # the SMSC accepted it; smsc_id is set
    TRANSIENT = "transient"  # try again later (timeout, disconnect, temporary status)
    PERMANENT = "permanent"  # the SMSC refused it for good


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitOutcome:
    kind: OutcomeKind
    smsc_id: str | None = None
    status: int | None = None  # the SMPP command_status (or the protocol's equivalent)
    error: str = ""  # short machine-friendly reason, e.g. "ESME_RSUBMITFAIL", "timeout"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptEvent:
    """A delivery report from an SMSC, its status already mapped by the connector (DESIGN.md
    §2 "Receipt mapping is each connector's job")."""

    connector: str
    smsc_id: str  # as the SMSC wrote it (SMPP: receipted_message_id TLV, else the text's id)
    status: Status  # delivered, undelivered, expired; sent while the network keeps trying
    reported: str  # the network's own word for it (SMPP `stat`: DELIVRD, UNDELIV, ...)
    err: str  # the network's error code, "000" when none
    done_at: datetime | None  # the receipt's done date when readable (UTC)
    raw: str  # the receipt text, for the event log


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundEvent:
    """A mobile-originated message (one segment as it arrived; reassembly is the gateway's)."""

    connector: str
    source: str  # sender digits (international, no '+') or alphanumeric
    source_ton: int
    destination: str
    dest_ton: int
    text: str
    data_coding: int
    # Concatenation info when this is one part of a longer message: (reference, total, seq).
    concat: tuple[int, int, int] | None = None
    received_at: datetime


class ConnectorEvents(Protocol):
    """Implemented by the gateway; a connector calls it and answers the SMSC after it returns."""

    async def on_receipt(self, event: ReceiptEvent) -> None: ...

    async def on_inbound(self, event: InboundEvent) -> None: ...

    def on_link_change(self, connector: str, up: bool) -> None: ...


class Connector(Protocol):
    """A southbound link to an SMSC or provider.

    `submit` waits for a free window slot and the connector's TPS budget, sends, and waits for
    the SMSC's answer (TRANSIENT when the link stays down or keeps breaking). ESME_RTHROTTLED
    and a lost link are handled inside, keeping order: the connector pauses, or rebinds, and
    sends the same part again before anything that came after it.
    """

    name: str

    @property
    def is_up(self) -> bool: ...

    @property
    def rebinding(self) -> bool:
        """Down for a moment: `submit` waits for the link, keeping the part's place."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def submit(self, part: OutboundPart) -> SubmitOutcome: ...


@dataclass(frozen=True, slots=True)
class HandoffSlot:
    """Room the dispatcher keeps for `parts` freshly accepted parts (see `Handoff`)."""

    ticket: int  # order of the reservation among all hand-off attempts
    parts: int
    claimed_until: float  # the lease a claim would have written


class Handoff(Protocol):
    """The dispatcher of this process, taking freshly accepted messages from memory.

    `reserve` answers None when the parts must go through the queue (no room, no link up, or
    earlier messages still queued); otherwise the caller commits them already claimed until
    `slot.claimed_until`, with the status a claim gives (sending), and calls `take` once the
    commit is durable (or `release` when it failed).
    """

    def reserve(self, parts: int, now: float) -> HandoffSlot | None: ...

    def take(self, slot: HandoffSlot, due: Sequence[DueMessage]) -> None: ...

    def release(self, slot: HandoffSlot) -> None: ...


# ---- what the admin use cases need (services/admin.py), one port per aggregate ----------


class Accounts(Protocol):
    """Accounts and their API keys. Ids and secrets are made by the implementation."""

    async def create_account(
        self,
        *,
        name: str,
        role: str = "user",
        default_country: str = "",
        max_parts: int = 10,
        help_text: str = "",
        now: float,
    ) -> Account: ...

    async def get_account(self, account_id: str) -> Account | None: ...

    async def account_by_name(self, name: str) -> Account | None: ...

    async def list_accounts(self) -> list[Account]: ...

    async def rotate_signing_secret(self, account_id: str) -> str | None:
        """The account's new callback secret; None when there is no such account."""
        ...

    async def create_api_key(
        self, account_id: str, *, name: str, now: float
    ) -> tuple[ApiKey, str]: ...

    async def list_api_keys(self, account_id: str) -> list[ApiKey]: ...

    async def revoke_api_key(self, account_id: str, key_id: str, *, now: float) -> bool:
        """False when the account has no such key, or it is revoked already."""
        ...

    async def authenticate(self, secret: str, *, now: float) -> tuple[Account, ApiKey] | None: ...


class SmppLogins(Protocol):
    """The SMPP logins (system_id and password hash) customers bind with."""

    async def set_smpp_credentials(self, creds: SmppCredentials) -> None:
        """Create or replace the login `creds.system_id`."""
        ...

    async def smpp_credentials(self, system_id: str, *, now: float) -> SmppCredentials | None: ...

    async def list_smpp_credentials(self, account_id: str) -> list[SmppCredentials]: ...

    async def delete_smpp_credentials(self, account_id: str, system_id: str) -> bool: ...


class Webhooks(Protocol):
    """Webhook subscriptions, the deliveries made for them (and for callback_urls), and
    each delivery's attempts."""

    async def create_webhook(
        self, account_id: str, *, url: str, events: Sequence[str], description: str, now: float
    ) -> Webhook: ...

    async def list_webhooks(self, account_id: str) -> list[Webhook]: ...

    async def get_webhook(self, account_id: str, webhook_id: str) -> Webhook | None: ...

    async def delete_webhook(self, account_id: str, webhook_id: str) -> bool: ...

    async def list_deliveries(
        self,
        account_id: str,
        *,
        webhook_id: str | None = None,
        message_id: str | None = None,
        limit: int = 100,
    ) -> list[Delivery]: ...

    async def list_attempts(self, delivery_id: str) -> Sequence[Mapping[str, Any]]:
        """attempted_at, status_code, error and duration_ms of each attempt, oldest first."""
        ...


class MessageLookup(Protocol):
    """One message of an account (None when it has no such message)."""

    async def get_message(
        self, message_id: str, account_id: str | None = None
    ) -> Message | None: ...


class UrlCheck(Protocol):
    """Checks a tenant's URL when it is saved: the normalised URL, or a DomainError
    (UrlNotAllowed, InvalidRequest) naming `field` (adapters/url_guard.py)."""

    async def check(self, url: str, *, field: str) -> str: ...

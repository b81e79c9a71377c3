"""Records the services read and the changes they ask the store to make.

The store adapter turns a list of changes into one group-committed transaction; services
never see SQL. Times are UNIX seconds (floats).
"""

from __future__ import annotations

from dataclasses import dataclass

from smsgate.services.ids import new_id, new_secret


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    id: str
    name: str
    role: str  # "user" | "admin"
    default_country: str
    max_parts: int
    help_text: str
    signing_secret: str
    disabled: bool
    created_at: float

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def new_account(
    *,
    name: str,
    role: str = "user",
    default_country: str = "",
    max_parts: int = 10,
    help_text: str = "",
    now: float,
) -> Account:
    """The record of a new account, with its id and its callback signing secret."""
    return Account(
        id=new_id("acc", now),
        name=name,
        role=role,
        default_country=default_country,
        max_parts=max_parts,
        help_text=help_text,
        signing_secret=new_secret("whsec"),
        disabled=False,
        created_at=now,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKey:
    id: str
    account_id: str
    name: str
    prefix: str
    created_at: float
    revoked_at: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    id: str
    account_id: str
    direction: str  # outbound | inbound
    to_addr: str
    from_addr: str
    from_ton: int
    from_npi: int
    text: str
    status: str
    category: str
    encoding: str
    parts: int
    price: float | None = None
    currency: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    reference: str | None = None
    batch_id: str | None = None
    campaign_id: str | None = None
    connector: str | None = None
    callback_url: str | None = None
    source: str = "api"
    receipt_requested: int = 0  # SMPP registered_delivery of an SMPP submission
    valid_until: float | None = None
    scheduled_at: float | None = None
    created_at: float
    sent_at: float | None = None
    delivered_at: float | None = None
    updated_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Part:
    message_id: str
    seq: int
    total: int
    status: str
    short_message: bytes
    esm_class: int
    data_coding: int
    sar_ref: int | None = None
    receipt_requested: int = 0
    connector: str | None = None
    smsc_id: str | None = None
    attempts: int = 0
    error_code: str | None = None
    submitted_at: float | None = None
    done_at: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusEvent:
    message_id: str
    seq: int | None
    status: str
    error_code: str | None
    detail: str | None
    created_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Webhook:
    id: str
    account_id: str
    url: str
    events: tuple[str, ...]
    secret: str
    description: str
    active: bool
    created_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class NewDelivery:
    """A webhook event to send (the outbox row of the webhook sender)."""

    id: str
    event_id: str
    event: str
    account_id: str
    webhook_id: str | None
    message_id: str | None
    url: str
    payload: str
    created_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    id: str
    event_id: str
    event: str
    account_id: str
    webhook_id: str | None
    message_id: str | None
    url: str
    payload: str
    status: str
    attempts: int
    next_attempt_at: float | None
    last_status_code: int | None
    last_error: str | None
    created_at: float
    delivered_at: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Batch:
    id: str
    account_id: str
    total: int
    reference: str | None
    created_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class NewMessage:
    """Everything accepting one message writes, in one commit (transactional outbox)."""

    message: Message
    parts: tuple[Part, ...]
    due_at: float | None  # outbox due time; None when nothing is to be sent
    events: tuple[StatusEvent, ...]
    deliveries: tuple[NewDelivery, ...] = ()
    idempotency: tuple[str, str] | None = None  # (key, request hash)
    # Set when the dispatcher of this process takes the parts from memory (services/ports.py
    # Handoff): written as its claim would leave them, the message and parts `sending` (the
    # records here stay as accepted) and the queue rows claimed until then.
    claimed_until: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DueMessage:
    """What the dispatcher needs to submit the claimed parts of one message."""

    message: Message
    parts: tuple[Part, ...]
    attempts: dict[int, int]  # seq → outbox attempts so far


# ---- changes -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PartChange:
    message_id: str
    seq: int
    status: str
    connector: str | None = None
    smsc_id: str | None = None
    attempts: int | None = None
    error_code: str | None = None
    submitted_at: float | None = None
    done_at: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageChange:
    message_id: str
    status: str
    updated_at: float
    error_code: str | None = None
    error_message: str | None = None
    connector: str | None = None
    sent_at: float | None = None
    delivered_at: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxChange:
    message_id: str
    seq: int
    due_at: float | None  # None: remove from the queue
    attempts: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageTextChange:
    """The text of a message whose parts arrived one by one (SMPP concatenation)."""

    message_id: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NewSmppDelivery:
    """A deliver_sm to hand to the account's ESME (a receipt or an inbound message)."""

    account_id: str
    kind: str  # receipt | mo
    message_id: str
    pdu: str  # JSON of a DeliverSmSpec (adapters/smpp_server/deliver.py)
    created_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SmppCredentials:
    system_id: str
    account_id: str
    password_hash: str
    max_binds: int
    allowed_ips: str
    submit_rate_per_s: float | None
    created_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingSmpp:
    id: int
    account_id: str
    kind: str
    message_id: str
    pdu: str
    attempts: int
    next_attempt_at: float
    created_at: float


Change = (
    PartChange
    | MessageChange
    | OutboxChange
    | StatusEvent
    | NewDelivery
    | MessageTextChange
    | NewSmppDelivery
)

"""Request and response shapes of the REST API v1 (DESIGN.md §3), for validation and OpenAPI.

Request models are strict (DESIGN.md §5): `true` is not 1, `"5"` is not 5, 5 is not a string;
the fast path validates with the same models."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorOut(BaseModel):
    error: ErrorBody


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    to: str = Field(min_length=1, max_length=40, description="E.164, or national format")
    from_: str | None = Field(
        default=None, alias="from", max_length=20, description="sender ID or number"
    )
    text: str = Field(min_length=1, max_length=10_000)
    category: Literal["transactional", "marketing"] = "transactional"
    # Strict types everywhere (true is not 1), but a date comes as an ISO 8601 string.
    send_at: datetime | None = Field(
        default=None, strict=False, description="ISO 8601; schedule for later"
    )
    validity_s: int | None = Field(default=None, ge=5, le=7 * 24 * 3600)
    encoding: Literal["auto", "gsm7", "ucs2"] = "auto"
    transliterate: bool = False
    reference: str | None = Field(default=None, max_length=200)
    callback_url: str | None = Field(default=None, max_length=2000)


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    text: str = Field(max_length=10_000)
    encoding: Literal["auto", "gsm7", "ucs2"] = "auto"
    transliterate: bool = False


class PreviewOut(BaseModel):
    encoding: str
    parts: int
    chars: int
    units: int
    per_part: int
    non_gsm_chars: list[str]
    price: float | None


class ErrorRef(BaseModel):
    code: str
    message: str | None


class MessageOut(BaseModel):
    id: str
    direction: Literal["outbound", "inbound"]
    to: str
    from_: str = Field(alias="from")
    text: str
    status: str
    category: str
    encoding: str
    parts: int
    price: float | None
    currency: str | None
    error: ErrorRef | None
    reference: str | None
    batch: str | None
    campaign: str | None
    connector: str | None
    created_at: str
    scheduled_at: str | None
    sent_at: str | None
    delivered_at: str | None
    updated_at: str
    valid_until: str | None


class MessageList(BaseModel):
    data: list[MessageOut]
    next_cursor: str | None


class StatusEventOut(BaseModel):
    status: str
    part: int | None
    error_code: str | None
    detail: str | None
    at: str


class BatchRecipient(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    to: str = Field(min_length=1, max_length=40)
    fields: dict[str, str] = Field(default_factory=dict, description="values for {placeholders}")


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    recipients: list[BatchRecipient] = Field(min_length=1, max_length=10_000)
    from_: str | None = Field(default=None, alias="from", max_length=20)
    text: str = Field(min_length=1, max_length=10_000, description="may use {placeholders}")
    category: Literal["transactional", "marketing"] = "transactional"
    send_at: datetime | None = Field(default=None, strict=False)
    validity_s: int | None = Field(default=None, ge=5, le=7 * 24 * 3600)
    encoding: Literal["auto", "gsm7", "ucs2"] = "auto"
    reference: str | None = Field(default=None, max_length=200)
    callback_url: str | None = Field(default=None, max_length=2000)


class BatchOut(BaseModel):
    id: str
    total: int
    reference: str | None
    created_at: str
    counts: dict[str, int]


EventName = Literal["message.status", "message.inbound", "campaign.finished"]


def _default_events() -> list[EventName]:
    return ["message.status"]


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    url: str = Field(min_length=1, max_length=2000)
    events: list[EventName] = Field(default_factory=_default_events, min_length=1)
    description: str = Field(default="", max_length=500)


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: str
    secret: str | None = None


class DeliveryOut(BaseModel):
    id: str
    event_id: str
    event: str
    url: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: str
    delivered_at: str | None
    next_attempt_at: str | None


class AttemptOut(BaseModel):
    attempted_at: str
    status_code: int | None
    error: str | None = Field(description="why it failed (e.g. `HTTP 500`, `url_not_allowed`)")
    duration_ms: float


class MessageDeliveryOut(DeliveryOut):
    webhook_id: str | None = Field(
        description="the subscription; null for the message's callback_url or a keyword forward"
    )
    history: list[AttemptOut] = Field(description="every attempt, oldest first")


class AccountOut(BaseModel):
    id: str
    name: str
    role: str
    default_country: str
    max_parts: int
    created_at: str
    callback_secret: str | None = Field(
        default=None,
        description="signs the account's callback_url calls and keyword forwards; shown only "
        "by the call that creates the account and by POST /api/v1/account/"
        "rotate-callback-secret",
    )


class CallbackSecretOut(BaseModel):
    callback_secret: str = Field(description="the new secret; the old one no longer signs")


class AccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=200)
    role: Literal["user", "admin"] = "user"
    default_country: str = Field(default="", max_length=2)
    max_parts: int = Field(default=10, ge=1, le=255)


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(default="", max_length=200)


class KeyOut(BaseModel):
    id: str
    name: str
    prefix: str
    created_at: str
    revoked_at: str | None
    key: str | None = Field(default=None, description="shown once, at creation")


class ConnectorOut(BaseModel):
    name: str
    type: str
    up: bool
    stats: dict[str, int | float]


class SmppLoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    system_id: str = Field(min_length=1, max_length=15, pattern=r"^[\x21-\x7e]+$")
    password: str = Field(min_length=1, max_length=8, description="SMPP 3.4 allows 8 characters")
    max_binds: int = Field(default=10, ge=1, le=1000)
    allowed_ips: list[str] = Field(default_factory=list, description="addresses or networks")
    submit_rate_per_s: float | None = Field(default=None, gt=0)


class SmppLoginOut(BaseModel):
    system_id: str
    max_binds: int
    allowed_ips: list[str]
    submit_rate_per_s: float | None
    created_at: str

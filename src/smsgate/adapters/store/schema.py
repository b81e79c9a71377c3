"""The tables (DESIGN.md §4). Times are UNIX seconds as floats: portable, cheap to compare.

The `outbox` table is the dispatch queue: a row per part still to submit, with its due time
and a claim lease, so a crashed worker's claims come back when the lease runs out.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("role", String(16), nullable=False, default="user"),
    Column("default_country", String(2), nullable=False, default=""),
    Column("max_parts", Integer, nullable=False, default=10),
    Column("help_text", Text, nullable=False, default=""),
    Column("signing_secret", String(80), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("account_id", String(40), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False, default=""),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float, nullable=True),
)

messages = Table(
    "messages",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("account_id", String(40), ForeignKey("accounts.id"), nullable=False),
    Column("direction", String(8), nullable=False),  # outbound | inbound
    Column("to_addr", String(32), nullable=False),
    Column("from_addr", String(32), nullable=False),
    Column("from_ton", Integer, nullable=False, default=0),
    Column("from_npi", Integer, nullable=False, default=0),
    Column("text", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("category", String(16), nullable=False, default="transactional"),
    Column("encoding", String(8), nullable=False),
    Column("parts", Integer, nullable=False),
    Column("price", Float, nullable=True),
    Column("currency", String(3), nullable=True),
    Column("error_code", String(64), nullable=True),
    Column("error_message", Text, nullable=True),
    Column("reference", String(200), nullable=True),
    Column("batch_id", String(40), nullable=True, index=True),
    Column("campaign_id", String(40), nullable=True),
    Column("connector", String(64), nullable=True),
    Column("callback_url", Text, nullable=True),
    Column("source", String(8), nullable=False, default="api"),  # api | smpp | mo
    # SMPP registered_delivery of an SMPP submission (0: no receipt to the ESME).
    Column("receipt_requested", Integer, nullable=False, default=0, server_default="0"),
    Column("valid_until", Float, nullable=True),
    Column("scheduled_at", Float, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("sent_at", Float, nullable=True),
    Column("delivered_at", Float, nullable=True),
    Column("updated_at", Float, nullable=False),
    Index("ix_messages_account_created", "account_id", "id"),
    Index("ix_messages_status_valid", "status", "valid_until"),
)

parts = Table(
    "parts",
    metadata,
    Column("message_id", String(40), ForeignKey("messages.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("total", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("short_message", LargeBinary, nullable=False),
    Column("esm_class", Integer, nullable=False, default=0),
    Column("data_coding", Integer, nullable=False, default=0),
    Column("sar_ref", Integer, nullable=True),
    # registered_delivery of the submit_sm that carried this part (ESME-concatenated messages:
    # an ESME may ask a receipt for some parts only, e.g. Kannel for the first).
    Column("receipt_requested", Integer, nullable=False, default=0, server_default="0"),
    Column("connector", String(64), nullable=True),
    Column("smsc_id", String(80), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error_code", String(64), nullable=True),
    Column("submitted_at", Float, nullable=True),
    Column("done_at", Float, nullable=True),
    Index("ix_parts_smsc", "connector", "smsc_id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("message_id", String(40), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("due_at", Float, nullable=False),
    Column("claimed_until", Float, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Index("ix_outbox_due_order", "due_at", "message_id", "seq"),
)

status_events = Table(
    "status_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(40), nullable=False, index=True),
    Column("seq", Integer, nullable=True),
    Column("status", String(16), nullable=False),
    Column("error_code", String(64), nullable=True),
    Column("detail", Text, nullable=True),
    Column("created_at", Float, nullable=False),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("account_id", String(40), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("url", Text, nullable=False),
    Column("events", Text, nullable=False),  # JSON list
    Column("secret", String(80), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", Float, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("event_id", String(40), nullable=False, index=True),
    Column("event", String(40), nullable=False),
    Column("account_id", String(40), nullable=False, index=True),
    Column("webhook_id", String(40), nullable=True, index=True),
    Column("message_id", String(40), nullable=True),
    Column("url", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=True),
    Column("claimed_until", Float, nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("delivered_at", Float, nullable=True),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", String(40), nullable=False, index=True),
    Column("attempted_at", Float, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("duration_ms", Float, nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("account_id", String(40), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("message_id", String(40), nullable=False),
    Column("created_at", Float, nullable=False),
)

batches = Table(
    "batches",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("account_id", String(40), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("total", Integer, nullable=False),
    Column("reference", String(200), nullable=True),
    Column("created_at", Float, nullable=False),
)

smpp_credentials = Table(
    "smpp_credentials",
    metadata,
    Column("system_id", String(16), primary_key=True),
    Column("account_id", String(40), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("password_hash", String(200), nullable=False),
    Column("max_binds", Integer, nullable=False, default=10),
    Column("allowed_ips", Text, nullable=False, default=""),  # comma-separated; "" = any
    Column("submit_rate_per_s", Float, nullable=True),
    Column("created_at", Float, nullable=False),
)

# deliver_sm waiting for an ESME (receipts, inbound messages): kept until a receiver of the
# account takes it, oldest first (DESIGN.md §3, SMPP server).
smpp_outbox = Table(
    "smpp_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(40), nullable=False),
    Column("kind", String(8), nullable=False),  # receipt | mo
    Column("message_id", String(40), nullable=False),
    Column("pdu", Text, nullable=False),  # JSON of the deliver_sm fields
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_smpp_outbox_account", "account_id", "id"),
)

connectors = Table(
    "connectors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("type", String(16), nullable=False),
    Column("config", Text, nullable=False),  # JSON, secrets included: admin-only
    Column("enabled", Boolean, nullable=False, default=True),
    Column("updated_at", Float, nullable=False),
)

routes = Table(
    "routes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("prefix", String(16), nullable=False, default=""),
    Column("country", String(2), nullable=False, default=""),
    Column("connectors", Text, nullable=False),  # JSON list, in order of preference
    Column("priority", Integer, nullable=False, default=0),
)

# ---- two-way messaging (issue 5; migration 0002) -----------------------------------------

# Numbers assigned to accounts. A number has one exclusive row, or one `shared` row per
# account sharing it (a shared short code, where keywords decide the account).
numbers = Table(
    "numbers",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("number", String(32), nullable=False, index=True),  # "+3598…" or a short code
    Column("kind", String(8), nullable=False),  # long | short
    Column("account_id", String(40), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("shared", Boolean, nullable=False, default=False),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("number", "account_id"),
)

# Keyword rules per number; keyword "" is the number's catch-all. Unique per number string,
# so two accounts on a shared short code cannot claim the same keyword.
keyword_rules = Table(
    "keyword_rules",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("account_id", String(40), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("number_id", String(40), ForeignKey("numbers.id"), nullable=False, index=True),
    Column("number", String(32), nullable=False),
    Column("keyword", String(64), nullable=False),  # normalised (domain/keywords.py)
    Column("display", String(64), nullable=False),
    Column("action", String(8), nullable=False),  # reply | forward | optout | optin | help
    Column("reply_text", Text, nullable=True),
    Column("forward_url", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("number", "keyword"),
)

# The suppression list (DESIGN.md §6): no marketing to these numbers from this account.
optouts = Table(
    "optouts",
    metadata,
    Column("account_id", String(40), ForeignKey("accounts.id"), primary_key=True),
    Column("number", String(32), primary_key=True),
    Column("source", String(16), nullable=False),  # keyword | api
    Column("keyword", String(64), nullable=True),
    Column("created_at", Float, nullable=False),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("account_id", String(40), ForeignKey("accounts.id"), nullable=False),
    Column("number", String(32), nullable=False),  # the account's number
    Column("peer", String(32), nullable=False),
    Column("unread", Integer, nullable=False, default=0),
    Column("last_message_id", String(40), nullable=False),
    Column("last_direction", String(8), nullable=False),
    Column("last_text", Text, nullable=False),
    Column("last_at", Float, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("read_at", Float, nullable=True),
    UniqueConstraint("account_id", "number", "peer"),
    Index("ix_conversations_account_last", "account_id", "last_message_id"),
)

# Parts of concatenated inbound messages, each committed before its deliver_sm_resp. When
# the set is complete the message is stored and the rows get its id in the same commit; they
# stay until the reassembly timeout so a late duplicate part is recognised, not re-stored.
inbound_parts = Table(
    "inbound_parts",
    metadata,
    Column("connector", String(64), primary_key=True),
    Column("source", String(32), primary_key=True),
    Column("destination", String(32), primary_key=True),
    Column("ref", Integer, primary_key=True),
    Column("total", Integer, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("text", Text, nullable=False),
    Column("data_coding", Integer, nullable=False, default=0),
    Column("received_at", Float, nullable=False, index=True),
    Column("message_id", String(40), nullable=True),
)

# Inbound messages no account takes (unknown number; no keyword on a shared short code).
inbound_unrouted = Table(
    "inbound_unrouted",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("connector", String(64), nullable=False),
    Column("source", String(32), nullable=False),
    Column("destination", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("reason", String(16), nullable=False),
    Column("error_code", String(64), nullable=True),
    Column("received_at", Float, nullable=False),
)

# Conversation threads read the messages of one number and one peer, newest first.
Index("ix_messages_account_to_id", messages.c.account_id, messages.c.to_addr, messages.c.id)
Index("ix_messages_account_from_id", messages.c.account_id, messages.c.from_addr, messages.c.id)

"""Two-way SMS: numbers, keyword rules, opt-outs, conversations, inbound parts, unrouted.

Revision ID: 0002
Revises: 0001 (a branch beside 0003, SMPP customers; `smsgate migrate` upgrades every head)
Create Date: 2026-11-22 07:52:38.839454
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_parts",
        sa.Column("connector", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("destination", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data_coding", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("message_id", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint(
            "connector",
            "source",
            "destination",
            "ref",
            "total",
            "seq",
            name=op.f("pk_inbound_parts"),
        ),
    )
    with op.batch_alter_table("inbound_parts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inbound_parts_received_at"), ["received_at"], unique=False
        )

    op.create_table(
        "inbound_unrouted",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("connector", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("destination", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_unrouted")),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("peer", sa.String(length=32), nullable=False),
        sa.Column("unread", sa.Integer(), nullable=False),
        sa.Column("last_message_id", sa.String(length=40), nullable=False),
        sa.Column("last_direction", sa.String(length=8), nullable=False),
        sa.Column("last_text", sa.Text(), nullable=False),
        sa.Column("last_at", sa.Float(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("read_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_conversations_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
        sa.UniqueConstraint(
            "account_id", "number", "peer", name=op.f("uq_conversations_account_id_number_peer")
        ),
    )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_conversations_account_last", ["account_id", "last_message_id"], unique=False
        )

    op.create_table(
        "numbers",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_numbers_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_numbers")),
        sa.UniqueConstraint("number", "account_id", name=op.f("uq_numbers_number_account_id")),
    )
    with op.batch_alter_table("numbers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_numbers_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_numbers_number"), ["number"], unique=False)

    op.create_table(
        "optouts",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("keyword", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_optouts_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", "number", name=op.f("pk_optouts")),
    )
    op.create_table(
        "keyword_rules",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("number_id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("keyword", sa.String(length=64), nullable=False),
        sa.Column("display", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("reply_text", sa.Text(), nullable=True),
        sa.Column("forward_url", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_keyword_rules_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["number_id"], ["numbers.id"], name=op.f("fk_keyword_rules_number_id_numbers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_keyword_rules")),
        sa.UniqueConstraint("number", "keyword", name=op.f("uq_keyword_rules_number_keyword")),
    )
    with op.batch_alter_table("keyword_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_keyword_rules_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_keyword_rules_number_id"), ["number_id"], unique=False)

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_messages_account_from_id", ["account_id", "from_addr", "id"], unique=False
        )
        batch_op.create_index(
            "ix_messages_account_to_id", ["account_id", "to_addr", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_account_to_id")
        batch_op.drop_index("ix_messages_account_from_id")

    with op.batch_alter_table("keyword_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_keyword_rules_number_id"))
        batch_op.drop_index(batch_op.f("ix_keyword_rules_account_id"))

    op.drop_table("keyword_rules")
    op.drop_table("optouts")
    with op.batch_alter_table("numbers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_numbers_number"))
        batch_op.drop_index(batch_op.f("ix_numbers_account_id"))

    op.drop_table("numbers")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_account_last")

    op.drop_table("conversations")
    op.drop_table("inbound_unrouted")
    with op.batch_alter_table("inbound_parts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_parts_received_at"))

    op.drop_table("inbound_parts")

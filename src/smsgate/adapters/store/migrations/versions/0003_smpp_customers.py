"""SMPP customers: their credentials, the deliver_sm kept for them, receipt requests.

Revision ID: 0003
Revises: 0001 (a branch beside 0002, two-way SMS; `smsgate migrate` upgrades every head)
Create Date: 2026-11-22 07:52:11.040030
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The dispatcher claims in (due_at, message_id, seq) order: one index serves the scan.
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due")
        batch_op.create_index("ix_outbox_due_order", ["due_at", "message_id", "seq"], unique=False)
    op.create_table(
        "smpp_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("pdu", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.Float(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_smpp_outbox")),
    )
    with op.batch_alter_table("smpp_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_smpp_outbox_account", ["account_id", "id"], unique=False)

    op.create_table(
        "smpp_credentials",
        sa.Column("system_id", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("max_binds", sa.Integer(), nullable=False),
        sa.Column("allowed_ips", sa.Text(), nullable=False),
        sa.Column("submit_rate_per_s", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_smpp_credentials_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("system_id", name=op.f("pk_smpp_credentials")),
    )
    with op.batch_alter_table("smpp_credentials", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_smpp_credentials_account_id"), ["account_id"], unique=False
        )

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("receipt_requested", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due_order")
        batch_op.create_index("ix_outbox_due", ["due_at"], unique=False)
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("receipt_requested")

    with op.batch_alter_table("smpp_credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_smpp_credentials_account_id"))

    op.drop_table("smpp_credentials")
    with op.batch_alter_table("smpp_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_smpp_outbox_account")

    op.drop_table("smpp_outbox")

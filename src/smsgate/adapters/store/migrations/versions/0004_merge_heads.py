"""One head again: the two-way branch (0002) and the SMPP-customers branch (0003 → 0004)
both grew from 0001. Schema unchanged; databases at both heads (alembic_version rows 0002
and 0004) move to this one. The next migration revises "0004_merge".

Revision ID: 0004_merge
Revises: 0002, 0004
"""

from __future__ import annotations

revision = "0004_merge"
down_revision = ("0002", "0004")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

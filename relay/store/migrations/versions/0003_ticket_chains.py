"""Resume ticket chains: each ticket remembers when the OTP login that began its chain of
resumed logins happened, so reconnects without an OTP end a fixed time after it, however often
the ticket was renewed or re-issued. Tickets already issued start their chain at their own
issue time.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("resume_tickets", sa.Column("chain_started_at", sa.Double(), nullable=True))
    op.execute("UPDATE resume_tickets SET chain_started_at = created_at")
    with op.batch_alter_table("resume_tickets") as batch:
        batch.alter_column("chain_started_at", existing_type=sa.Double(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("resume_tickets") as batch:
        batch.drop_column("chain_started_at")

"""Wake-on-LAN: each office PC's network card towards the relay, and whether it may wake others.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("hosts", sa.Column("lan_mac", sa.String(17), nullable=True))
    op.add_column("hosts", sa.Column("lan_address", sa.String(18), nullable=True))
    op.add_column(
        "hosts", sa.Column("can_wake", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    with op.batch_alter_table("hosts") as batch:
        batch.drop_column("can_wake")
        batch.drop_column("lan_address")
        batch.drop_column("lan_mac")

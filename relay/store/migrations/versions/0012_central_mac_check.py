"""The central MAC check per office PC: on once its central list held a home PC, so that a
list emptied by deleting its last entry refuses everyone instead of switching the check off.

Office PCs whose central list holds home PCs now (their own registrations, or those of users
granted them) start with the check on.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column(
        "hosts",
        sa.Column("central_macs", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute(
        "UPDATE hosts SET central_macs = TRUE WHERE host_id IN ("
        " SELECT host_id FROM home_macs WHERE host_id IS NOT NULL"
        " UNION SELECT grants.host_id FROM grants"
        " JOIN home_macs ON home_macs.user_id = grants.user_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("hosts") as batch:
        batch.drop_column("central_macs")

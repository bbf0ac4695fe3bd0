"""Central home-PC lists: the public half of each tenant's signing key, and each office PC's
latest signed list of home PCs with its serial.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("tenant_settings", sa.Column("signing_key", sa.String(44), nullable=True))
    op.create_table(
        "host_device_lists",
        sa.Column("host_id", sa.String(128), nullable=False),
        sa.Column("serial", sa.BigInteger(), nullable=False),
        sa.Column("signed", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["host_id"],
            ["hosts.host_id"],
            name="fk_host_device_lists_host_id_hosts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("host_id", name="pk_host_device_lists"),
    )


def downgrade() -> None:
    op.drop_table("host_device_lists")
    with op.batch_alter_table("tenant_settings") as batch:
        batch.drop_column("signing_key")

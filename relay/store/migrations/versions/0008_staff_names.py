"""Staff names: each staff member's full name and department (empty for those added before).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("full_name", sa.String(64), nullable=False, server_default=""))
    op.add_column(
        "users", sa.Column("department", sa.String(100), nullable=False, server_default="")
    )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("department")
        batch.drop_column("full_name")

"""Admin roles: each admin's role (operator, tenant_admin, auditor, helpdesk); the admins
already there keep what they were (an operator has no tenant, every other a tenant admin).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column(
        "admins",
        sa.Column("role", sa.String(16), nullable=False, server_default="tenant_admin"),
    )
    admins = sa.table("admins", sa.column("tenant_id"), sa.column("role"))
    op.execute(sa.update(admins).where(admins.c.tenant_id.is_(None)).values(role="operator"))


def downgrade() -> None:
    # Auditors and helpdesk admins cannot be told apart from tenant admins once the column is
    # gone: they would get a tenant admin's rights. They go, rather than be raised.
    admins = sa.table("admins", sa.column("role"))
    op.execute(sa.delete(admins).where(admins.c.role.in_(("auditor", "helpdesk"))))
    with op.batch_alter_table("admins") as batch:
        batch.drop_column("role")

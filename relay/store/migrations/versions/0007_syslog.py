"""Syslog: each tenant's collector for copies of its audit records (a URL, and for TLS the
collector's CA certificates or pinned fingerprint), in the tenant's settings row.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("tenant_settings", sa.Column("syslog_url", sa.String(300), nullable=True))
    op.add_column("tenant_settings", sa.Column("syslog_ca_pem", sa.Text(), nullable=True))
    op.add_column("tenant_settings", sa.Column("syslog_fingerprint", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tenant_settings") as batch:
        batch.drop_column("syslog_fingerprint")
        batch.drop_column("syslog_ca_pem")
        batch.drop_column("syslog_url")

"""Indexes for a directory at the service's scale (300,000 office PCs, 100,000 staff, 800
tenants; bench/directory_scale.py): a tenant's office PCs in name order, so the admin API's
pages of them are read in order and stop early (replacing the index on tenant_id alone, which
this one's first column serves); a tenant's newest audit records (the audit page reads them
backwards from the newest, however few the tenant has); when each office PC of a tenant last
started a session (the office PC list's last-session column, from the index alone).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_hosts_tenant_id_name_host_id", "hosts", ["tenant_id", "name", "host_id"])
    op.drop_index("ix_hosts_tenant_id", table_name="hosts")
    op.create_index("ix_audit_tenant_id", "audit", ["tenant", "id"])
    op.create_index(
        "ix_audit_tenant_event_host_id_ts", "audit", ["tenant", "event", "host_id", "ts"]
    )


def downgrade() -> None:
    op.drop_index("ix_audit_tenant_event_host_id_ts", table_name="audit")
    op.drop_index("ix_audit_tenant_id", table_name="audit")
    op.create_index("ix_hosts_tenant_id", "hosts", ["tenant_id"])
    op.drop_index("ix_hosts_tenant_id_name_host_id", table_name="hosts")

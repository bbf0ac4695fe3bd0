"""Admin layer: administrators, tenant settings (policy, bandwidth limits), office-PC policies,
home-PC MAC registrations.

Written out in full (not generated from relay.store.schema) for the same reason as 0001.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(column: str, table: str, target: str, owner: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.{target}"], name=f"fk_{owner}_{column}_{table}", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "admins",
        sa.Column("id", _ID, nullable=False, autoincrement=True),
        sa.Column("login", sa.String(64), nullable=False),
        sa.Column("tenant_id", _ID, nullable=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("totp_secret_sealed", sa.LargeBinary(512), nullable=False),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("last_login_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_admins"),
        sa.UniqueConstraint("login", name="uq_admins_login"),
        _fk("tenant_id", "tenants", "id", "admins"),
    )
    op.create_table(
        "tenant_settings",
        sa.Column("tenant_id", _ID, nullable=False, autoincrement=False),
        sa.Column("policy", sa.Text(), nullable=True),
        sa.Column("alert_bps", sa.BigInteger(), nullable=True),
        sa.Column("cap_bps", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name="pk_tenant_settings"),
        _fk("tenant_id", "tenants", "id", "tenant_settings"),
    )
    op.create_table(
        "host_policies",
        sa.Column("host_id", sa.String(128), nullable=False),
        sa.Column("policy", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("host_id", name="pk_host_policies"),
        _fk("host_id", "hosts", "host_id", "host_policies"),
    )
    op.create_table(
        "home_macs",
        sa.Column("id", _ID, nullable=False, autoincrement=True),
        sa.Column("tenant_id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=True),
        sa.Column("host_id", sa.String(128), nullable=True),
        sa.Column("mac", sa.String(17), nullable=False),
        sa.Column("label", sa.String(128), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_home_macs"),
        _fk("tenant_id", "tenants", "id", "home_macs"),
        _fk("user_id", "users", "id", "home_macs"),
        _fk("host_id", "hosts", "host_id", "home_macs"),
    )
    op.create_index("ix_home_macs_tenant_id", "home_macs", ["tenant_id"])


def downgrade() -> None:
    for table in ("home_macs", "host_policies", "tenant_settings", "admins"):
        op.drop_table(table)

"""Initial directory schema: tenants, users, one-time codes, enrolment tokens, hosts, grants,
resume tickets, audit.

Written out in full rather than generated from relay.store.schema, so that this revision keeps
meaning the same thing when the schema module moves on. Constraint names follow the schema's
naming convention, so later revisions can refer to them on every database.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column[int]:
    return sa.Column("id", _ID, nullable=False, autoincrement=True)


def _ref(column: str, table: str, target_column: str, owner: str) -> list[sa.schema.SchemaItem]:
    """A NOT NULL referencing column plus its ON DELETE CASCADE foreign key."""
    column_type = _ID if target_column == "id" else sa.String(128)
    return [
        sa.Column(column, column_type, nullable=False),
        sa.ForeignKeyConstraint(
            [column],
            [f"{table}.{target_column}"],
            name=f"fk_{owner}_{column}_{table}",
            ondelete="CASCADE",
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "tenants",
        _id(),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tenants"),
        sa.UniqueConstraint("name", name="uq_tenants_name"),
    )
    op.create_table(
        "users",
        _id(),
        *_ref("tenant_id", "tenants", "id", "users"),
        sa.Column("login", sa.String(64), nullable=False),
        sa.Column("totp_secret_sealed", sa.LargeBinary(512), nullable=False),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("last_login_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("tenant_id", "login", name="uq_users_tenant_id_login"),
    )
    op.create_table(
        "one_time_codes",
        _id(),
        *_ref("user_id", "users", "id", "one_time_codes"),
        sa.Column("code_hash", sa.String(200), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("used_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_one_time_codes"),
    )
    op.create_index("ix_one_time_codes_user_id_used_at", "one_time_codes", ["user_id", "used_at"])
    op.create_table(
        "enrollment_tokens",
        _id(),
        sa.Column("token_hash", sa.String(200), nullable=False),
        *_ref("tenant_id", "tenants", "id", "enrollment_tokens"),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.Column("used_at", sa.Double(), nullable=True),
        sa.Column("host_id", sa.String(128), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_enrollment_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_enrollment_tokens_token_hash"),
    )
    op.create_table(
        "hosts",
        sa.Column("host_id", sa.String(128), nullable=False),
        *_ref("tenant_id", "tenants", "id", "hosts"),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("cert_pem", sa.Text(), nullable=False),
        sa.Column("secret_hash", sa.String(200), nullable=False),
        sa.Column("agent_version", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("last_seen_at", sa.Double(), nullable=True),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("host_id", name="pk_hosts"),
    )
    op.create_index("ix_hosts_tenant_id", "hosts", ["tenant_id"])
    op.create_table(
        "grants",
        *_ref("user_id", "users", "id", "grants"),
        *_ref("host_id", "hosts", "host_id", "grants"),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "host_id", name="pk_grants"),
    )
    op.create_table(
        "resume_tickets",
        sa.Column("ticket_hash", sa.String(200), nullable=False),
        *_ref("user_id", "users", "id", "resume_tickets"),
        *_ref("host_id", "hosts", "host_id", "resume_tickets"),
        sa.Column("device_fingerprint", sa.String(128), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_hash", name="pk_resume_tickets"),
    )
    op.create_index("ix_resume_tickets_expires_at", "resume_tickets", ["expires_at"])
    op.create_table(
        "audit",
        _id(),
        sa.Column("ts", sa.Double(), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=True),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("login", sa.String(64), nullable=True),
        sa.Column("host_id", sa.String(128), nullable=True),
        sa.Column("source", sa.String(128), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit"),
    )
    op.create_index("ix_audit_ts", "audit", ["ts"])
    op.create_index("ix_audit_tenant_ts", "audit", ["tenant", "ts"])


def downgrade() -> None:
    for table in (
        "audit",
        "resume_tickets",
        "grants",
        "hosts",
        "enrollment_tokens",
        "one_time_codes",
        "users",
        "tenants",
    ):
        op.drop_table(table)

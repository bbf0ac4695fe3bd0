"""Shared lockouts and admin sign-ins: failures and locks every relay node counts logins by,
and admin bearer tokens (as digests) that every node accepts and a restart keeps.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "lockout_failures",
        sa.Column("id", _ID, nullable=False, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key_digest", sa.String(64), nullable=False),
        sa.Column("failed_at", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_lockout_failures"),
    )
    op.create_index(
        "ix_lockout_failures_kind_key_digest", "lockout_failures", ["kind", "key_digest"]
    )
    op.create_index("ix_lockout_failures_expires_at", "lockout_failures", ["expires_at"])
    op.create_table(
        "lockout_locks",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key_digest", sa.String(64), nullable=False),
        sa.Column("locked_until", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key_digest", name="pk_lockout_locks"),
    )
    op.create_index("ix_lockout_locks_locked_until", "lockout_locks", ["locked_until"])
    op.create_table(
        "admin_tokens",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("login", sa.String(64), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=True),
        sa.Column("issued_at", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name="pk_admin_tokens"),
    )
    op.create_index("ix_admin_tokens_issued_at", "admin_tokens", ["issued_at"])
    op.create_index("ix_admin_tokens_expires_at", "admin_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_table("admin_tokens")
    op.drop_table("lockout_locks")
    op.drop_table("lockout_failures")

"""Relay cluster: the live nodes, where each online office PC is held, and every node's live
sessions (for the admin API of any node).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "relay_nodes",
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("address", sa.String(255), nullable=False),
        sa.Column("started_at", sa.Double(), nullable=False),
        sa.Column("heartbeat_at", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.Column("hosts", sa.Integer(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("max_hosts", sa.Integer(), nullable=False),
        sa.Column("draining", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("node_id", name="pk_relay_nodes"),
    )
    op.create_table(
        "host_locations",
        sa.Column("host_id", sa.String(128), nullable=False),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("since", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("host_id", name="pk_host_locations"),
    )
    op.create_index("ix_host_locations_node_id", "host_locations", ["node_id"])
    op.create_table(
        "cluster_sessions",
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("node_id", sa.String(64), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("login", sa.String(64), nullable=False),
        sa.Column("host_id", sa.String(128), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("started_at", sa.Double(), nullable=False),
        sa.Column("bytes_to_viewer", sa.BigInteger(), nullable=False),
        sa.Column("bytes_to_host", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name="pk_cluster_sessions"),
    )
    op.create_index("ix_cluster_sessions_node_id", "cluster_sessions", ["node_id"])
    op.create_index("ix_cluster_sessions_tenant", "cluster_sessions", ["tenant"])


def downgrade() -> None:
    op.drop_table("cluster_sessions")
    op.drop_table("host_locations")
    op.drop_table("relay_nodes")

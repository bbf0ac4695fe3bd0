"""Alembic migrations, on SQLite and PostgreSQL: they build the whole schema from empty, and it
matches schema.py."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from core.crypto.secret_box import SecretBox
from relay.store import migrate
from relay.store.database import checked_url
from relay.store.directory import Directory
from relay.store.schema import metadata

# The newest migration (renumbered at each merge of a branch that adds one).
HEAD = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
TABLES = {
    "cluster_sessions",
    "host_locations",
    "relay_nodes",
    "lockout_failures",
    "lockout_locks",
    "admin_tokens",
    "admins",
    "alembic_version",
    "audit",
    "enrollment_tokens",
    "grants",
    "home_macs",
    "host_policies",
    "host_device_lists",
    "hosts",
    "one_time_codes",
    "resume_tickets",
    "tenant_settings",
    "tenants",
    "users",
}


@pytest.fixture
def url(tmp_path: Path, database_url: str | None) -> str:
    """An empty database on each engine."""
    return database_url or f"sqlite:///{tmp_path / 'db.sqlite3'}"


@pytest.fixture
def engine(url: str) -> Iterator[sa.Engine]:
    """A plain engine on ``url``, without the directory's own settings."""
    plain = sa.create_engine(checked_url(url))
    yield plain
    plain.dispose()


def test_upgrade_from_empty_creates_every_table(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        assert migrate.current_revision(conn) is None
        migrate.upgrade(conn)
    with engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) == TABLES
        assert migrate.current_revision(conn) == HEAD


def test_migrated_schema_matches_metadata(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        migrate.upgrade(conn)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_downgrade_to_base_and_up_again(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        migrate.upgrade(conn)
    with engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "base")
    with engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) == {"alembic_version"}
    with engine.begin() as conn:
        migrate.upgrade(conn)
    with engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) == TABLES


def test_migrations_render_for_postgresql() -> None:
    """Offline SQL for PostgreSQL: the migrations use nothing SQLite-only."""
    config = migrate.alembic_config()
    config.set_main_option("sqlalchemy.url", "postgresql://")
    config.output_buffer = io.StringIO()
    command.upgrade(config, "head", sql=True)
    sql = config.output_buffer.getvalue()
    for table in TABLES - {"alembic_version"}:
        assert f"CREATE TABLE {table} (" in sql
    assert "BIGSERIAL" in sql and "DOUBLE PRECISION" in sql and "ON DELETE CASCADE" in sql


def test_open_is_idempotent(url: str) -> None:
    box = SecretBox.generate()
    for _ in range(3):
        Directory.from_url(url, box).close()


def test_admin_roles_migration_keeps_what_each_admin_was(engine: sa.Engine) -> None:
    """0010: operators (no tenant) become ``operator``, every other admin ``tenant_admin``;
    going back removes auditors and helpdesk admins rather than raise them to tenant admins."""
    with engine.begin() as conn:
        migrate.upgrade(conn, "0009")
        conn.execute(sa.text("INSERT INTO tenants (name, created_at) VALUES ('t', 0)"))
        tenant_id = conn.execute(sa.text("SELECT id FROM tenants")).scalar_one()
        for login, tenant in (("root", None), ("alice", tenant_id)):
            conn.execute(
                sa.text(
                    "INSERT INTO admins (login, tenant_id, password_hash, totp_secret_sealed,"
                    " disabled, created_at) VALUES (:login, :tenant, 'h', :seed, false, 0)"
                ),
                {"login": login, "tenant": tenant, "seed": b"s"},
            )
    with engine.begin() as conn:
        migrate.upgrade(conn)
        roles = dict(conn.execute(sa.text("SELECT login, role FROM admins")).all())
        assert roles == {"root": "operator", "alice": "tenant_admin"}
        conn.execute(sa.text("UPDATE admins SET role = 'auditor' WHERE login = 'alice'"))
    with engine.begin() as conn:
        command.downgrade(migrate.alembic_config(conn), "0009")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT login FROM admins")).scalars().all() == ["root"]


def test_the_central_mac_check_starts_on_for_office_pcs_with_a_central_list(url: str) -> None:
    """Migration 0012: an office PC whose central list holds home PCs (its own, or a granted
    user's) has the check on after the upgrade, so emptying the list later refuses everyone;
    one without a list keeps it off."""
    from core.crypto.certs import generate_identity, host_id_for_certificate, pem_to_der

    directory = Directory.from_url(url, SecretBox.generate())
    directory.add_tenant("town")
    directory.add_user("town", "tanaka")
    host_ids = []
    for name in ("own-list", "granted", "none"):
        cert = generate_identity(name).cert_pem.decode()
        host_id = host_id_for_certificate(pem_to_der(cert))
        token = directory.issue_enrollment_token("town", 600, 1.0)
        directory.redeem_enrollment_token(token, host_id, cert, name, "1", 1.0)
        host_ids.append(host_id)
    directory.add_mac("town", "02:00:00:00:00:01", host_id=host_ids[0])
    directory.grant("town", "tanaka", host_ids[1])
    directory.add_mac("town", "02:00:00:00:00:02", login="tanaka")
    directory.close()
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            command.downgrade(migrate.alembic_config(conn), "0011")
        with engine.begin() as conn:
            migrate.upgrade(conn)
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT host_id, central_macs FROM hosts")).all()
    finally:
        engine.dispose()
    assert {host_id: bool(on) for host_id, on in rows} == dict(
        zip(host_ids, [True, True, False], strict=True)
    )

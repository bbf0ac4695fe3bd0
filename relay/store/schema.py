"""The directory's tables, as SQLAlchemy Core metadata (portable: SQLite and PostgreSQL).

This describes the schema for queries; the schema itself is created only by the Alembic
migrations in ``migrations/versions`` (a test checks the two agree). Timestamps are POSIX
seconds as double precision; secrets are never stored in plaintext: TOTP seeds are sealed with
the SecretBox, codes and tokens are hashed.
"""

from __future__ import annotations

import sqlalchemy as sa

# Staff logins and names: the admin API's clients check them too (see core.admin_api).
from core.admin_api import MAX_DEPARTMENT_LEN as MAX_DEPARTMENT_LEN
from core.admin_api import MAX_FULL_NAME_LEN as MAX_FULL_NAME_LEN
from core.admin_api import MAX_LOGIN_LEN as MAX_LOGIN_LEN

# Length limits of the columns; the Directory checks input against these before writing.
# Tenant names: municipality names ("横浜市") or codes, 64 characters is ample.
MAX_TENANT_NAME_LEN = 64
# Host IDs are computed by the relay (a certificate fingerprint in text form): 128 fits SHA-256 hex
# with separators and a prefix.
MAX_HOST_ID_LEN = 128
# Human names of office PCs.
MAX_HOST_NAME_LEN = 128
# Agent version strings ("1.2.3+build").
MAX_AGENT_VERSION_LEN = 64
# A PEM certificate of the kind we generate is ~1 KiB; 16 KiB allows long chains of names.
MAX_CERT_PEM_LEN = 16 * 1024
# Device fingerprints reported by viewers (hash text).
MAX_DEVICE_FINGERPRINT_LEN = 128
# Audit fields.
MAX_AUDIT_EVENT_LEN = 64
MAX_AUDIT_SOURCE_LEN = 128
# Encoded secret hashes: scrypt encodings are ~90 characters, SHA-256 hex 64.
MAX_HASH_LEN = 200
# A tenant's syslog collector: tls://HOST:PORT with a DNS name of up to 253 characters.
MAX_SYSLOG_URL_LEN = 300
# A tenant's signing key as stored: 32 raw bytes in base64 are 44 characters.
MAX_SIGNING_KEY_LEN = 44
# Sealed TOTP seed: 1 + 12 + 32 + 16 bytes today; room for a longer format later.
MAX_SEALED_LEN = 512
# Longest admin role name stored (core.admin_api.AdminRole).
MAX_ROLE_LEN = 16

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

# Surrogate keys: 64-bit on PostgreSQL, SQLite's rowid alias INTEGER PRIMARY KEY there.
_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(MAX_TENANT_NAME_LEN), nullable=False, unique=True),
    sa.Column("created_at", sa.Double(), nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", _Id, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("login", sa.String(MAX_LOGIN_LEN), nullable=False),
    sa.Column("totp_secret_sealed", sa.LargeBinary(MAX_SEALED_LEN), nullable=False),
    sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
    sa.Column("disabled", sa.Boolean(), nullable=False),
    sa.Column("created_at", sa.Double(), nullable=False),
    sa.Column("last_login_at", sa.Double(), nullable=True),
    # Who the staff member is (migration 0008): "" when not given.
    sa.Column("full_name", sa.String(MAX_FULL_NAME_LEN), nullable=False, server_default=""),
    sa.Column("department", sa.String(MAX_DEPARTMENT_LEN), nullable=False, server_default=""),
    sa.UniqueConstraint("tenant_id", "login"),
)

one_time_codes = sa.Table(
    "one_time_codes",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("user_id", _Id, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("code_hash", sa.String(MAX_HASH_LEN), nullable=False),
    sa.Column("created_at", sa.Double(), nullable=False),
    sa.Column("used_at", sa.Double(), nullable=True),
    sa.Index(None, "user_id", "used_at"),
)

enrollment_tokens = sa.Table(
    "enrollment_tokens",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("token_hash", sa.String(MAX_HASH_LEN), nullable=False, unique=True),
    sa.Column("tenant_id", _Id, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", sa.Double(), nullable=False),
    sa.Column("expires_at", sa.Double(), nullable=False),
    sa.Column("used_at", sa.Double(), nullable=True),
    sa.Column("host_id", sa.String(MAX_HOST_ID_LEN), nullable=True),
)

MAX_LAN_MAC_LEN = 17  # AA:BB:CC:DD:EE:FF
MAX_LAN_ADDRESS_LEN = 18  # 255.255.255.255/32

hosts = sa.Table(
    "hosts",
    metadata,
    sa.Column("host_id", sa.String(MAX_HOST_ID_LEN), primary_key=True),
    sa.Column("tenant_id", _Id, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(MAX_HOST_NAME_LEN), nullable=False),
    sa.Column("cert_pem", sa.Text(), nullable=False),
    sa.Column("secret_hash", sa.String(MAX_HASH_LEN), nullable=False),
    sa.Column("agent_version", sa.String(MAX_AGENT_VERSION_LEN), nullable=False),
    sa.Column("created_at", sa.Double(), nullable=False),
    sa.Column("last_seen_at", sa.Double(), nullable=True),
    sa.Column("retired", sa.Boolean(), nullable=False),
    # Wake-on-LAN (migration 0009): the network card the office PC last reached the relay
    # through (core.wake.LanCard), and whether the admin lets it wake others of its LAN.
    sa.Column("lan_mac", sa.String(MAX_LAN_MAC_LEN), nullable=True),
    sa.Column("lan_address", sa.String(MAX_LAN_ADDRESS_LEN), nullable=True),
    sa.Column("can_wake", sa.Boolean(), nullable=False, server_default=sa.false()),
    # The central MAC check (migration 0010): on once the office PC's central list held a home
    # PC; it stays on when the list empties (then nobody passes) until an admin switches it off.
    sa.Column("central_macs", sa.Boolean(), nullable=False, server_default=sa.false()),
    # A tenant's office PCs in the order the admin API pages them (migration 0006).
    sa.Index(None, "tenant_id", "name", "host_id"),
)

grants = sa.Table(
    "grants",
    metadata,
    sa.Column("user_id", _Id, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "host_id",
        sa.String(MAX_HOST_ID_LEN),
        sa.ForeignKey("hosts.host_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("created_at", sa.Double(), nullable=False),
)

resume_tickets = sa.Table(
    "resume_tickets",
    metadata,
    sa.Column("ticket_hash", sa.String(MAX_HASH_LEN), primary_key=True),
    sa.Column("user_id", _Id, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column(
        "host_id",
        sa.String(MAX_HOST_ID_LEN),
        sa.ForeignKey("hosts.host_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("device_fingerprint", sa.String(MAX_DEVICE_FINGERPRINT_LEN), nullable=False),
    sa.Column("created_at", sa.Double(), nullable=False),
    sa.Column("expires_at", sa.Double(), nullable=False),
    # When the OTP login that began this chain of resumed logins happened (migration 0003).
    sa.Column("chain_started_at", sa.Double(), nullable=False),
    sa.Index(None, "expires_at"),
)

# Audit rows name tenants, users and hosts as text, not foreign keys: the log must keep records
# of attempts on names that never existed and of things deleted since.
audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("ts", sa.Double(), nullable=False),
    sa.Column("tenant", sa.String(MAX_TENANT_NAME_LEN), nullable=True),
    sa.Column("event", sa.String(MAX_AUDIT_EVENT_LEN), nullable=False),
    sa.Column("login", sa.String(MAX_LOGIN_LEN), nullable=True),
    sa.Column("host_id", sa.String(MAX_HOST_ID_LEN), nullable=True),
    sa.Column("source", sa.String(MAX_AUDIT_SOURCE_LEN), nullable=True),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Index(None, "ts"),
    sa.Index(None, "tenant", "ts"),
    # A tenant's newest records; when each of its office PCs last started a session (0006).
    sa.Index(None, "tenant", "id"),
    sa.Index(None, "tenant", "event", "host_id", "ts"),
)

# --- admin layer (migration 0002) ---------------------------------------------------------------

# A registered home-PC MAC in its normal form AA:BB:CC:DD:EE:FF.
MAC_LEN = 17
# Free-text label an admin gives a registration ("Tanaka's laptop").
MAX_MAC_LABEL_LEN = 128
# A stored policy as JSON (Policy.to_dict): a few hundred bytes; 8 KiB leaves room to grow.
MAX_POLICY_JSON_LEN = 8 * 1024

# Console and API administrators. ``tenant_id`` NULL means an operator (every tenant); otherwise
# a tenant admin, auditor or helpdesk admin (``role``) who may only ever see that tenant. Logins
# are unique across the relay so a login form needs no tenant field. Passwords are scrypt hashes,
# TOTP seeds sealed as for staff.
admins = sa.Table(
    "admins",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("login", sa.String(MAX_LOGIN_LEN), nullable=False, unique=True),
    sa.Column("tenant_id", _Id, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=True),
    sa.Column("password_hash", sa.String(MAX_HASH_LEN), nullable=False),
    sa.Column("totp_secret_sealed", sa.LargeBinary(MAX_SEALED_LEN), nullable=False),
    sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
    sa.Column("disabled", sa.Boolean(), nullable=False),
    sa.Column("created_at", sa.Double(), nullable=False),
    sa.Column("last_login_at", sa.Double(), nullable=True),
    # core.admin_api.AdminRole: operator (no tenant), tenant_admin, auditor or helpdesk.
    sa.Column("role", sa.String(MAX_ROLE_LEN), nullable=False, server_default="tenant_admin"),
)

# Per-tenant settings: the tenant's policy (Policy.to_dict JSON, NULL = none) and its bandwidth
# alert threshold and optional hard cap, in bit/s (NULL = not set).
tenant_settings = sa.Table(
    "tenant_settings",
    metadata,
    sa.Column(
        "tenant_id",
        _Id,
        sa.ForeignKey("tenants.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("policy", sa.Text(), nullable=True),
    sa.Column("alert_bps", sa.BigInteger(), nullable=True),
    sa.Column("cap_bps", sa.BigInteger(), nullable=True),
    sa.Column("updated_at", sa.Double(), nullable=False),
    # Where copies of the tenant's audit records go (core.syslog), and how TLS trusts it.
    sa.Column("syslog_url", sa.String(MAX_SYSLOG_URL_LEN), nullable=True),
    sa.Column("syslog_ca_pem", sa.Text(), nullable=True),
    sa.Column("syslog_fingerprint", sa.String(64), nullable=True),
    # The public half of the tenant's signing key for central home-PC lists (raw Ed25519 in
    # base64; core.hostpolicy.signed_devices): its private half stays on the admins' PCs.
    sa.Column("signing_key", sa.String(MAX_SIGNING_KEY_LEN), nullable=True),
)

# Each office PC's central list of home PCs as the tenant's admins signed it (the
# SignedDeviceList JSON), and its serial, which only grows. The relay cannot forge one; it keeps
# the latest so an office PC gets it when it comes online.
host_device_lists = sa.Table(
    "host_device_lists",
    metadata,
    sa.Column(
        "host_id",
        sa.String(MAX_HOST_ID_LEN),
        sa.ForeignKey("hosts.host_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("serial", sa.BigInteger(), nullable=False),
    sa.Column("signed", sa.Text(), nullable=False),
    sa.Column("updated_at", sa.Double(), nullable=False),
)

# Per-office-PC policy (Policy.to_dict JSON), combined with the tenant's by Policy.stricter.
host_policies = sa.Table(
    "host_policies",
    metadata,
    sa.Column(
        "host_id",
        sa.String(MAX_HOST_ID_LEN),
        sa.ForeignKey("hosts.host_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("policy", sa.Text(), nullable=False),
    sa.Column("updated_at", sa.Double(), nullable=False),
)

# Home-PC MAC registrations, each owned by exactly one staff user or one office PC. An office
# PC's central list (the pushed policy's allowed_macs) is its own registrations plus those of
# every user granted it.
home_macs = sa.Table(
    "home_macs",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("tenant_id", _Id, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("user_id", _Id, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
    sa.Column(
        "host_id",
        sa.String(MAX_HOST_ID_LEN),
        sa.ForeignKey("hosts.host_id", ondelete="CASCADE"),
        nullable=True,
    ),
    sa.Column("mac", sa.String(MAC_LEN), nullable=False),
    sa.Column("label", sa.String(MAX_MAC_LABEL_LEN), nullable=False),
    sa.Column("created_at", sa.Double(), nullable=False),
    sa.Index(None, "tenant_id"),
)

# --- relay cluster (migration 0004) -------------------------------------------------------------

# A relay node's ID: a name the operator gives (or host:port), unique in the cluster.
MAX_NODE_ID_LEN = 64
# The HOST:PORT other parts reach a node at (office PCs attach their data connections there).
MAX_NODE_ADDRESS_LEN = 255

# The live relay nodes sharing this database: each writes its own row at start and renews it
# every heartbeat; a row whose expiry passed is a dead node. Written without the writer lock
# (one upsert of a node's own row), so heartbeats never queue behind logins.
relay_nodes = sa.Table(
    "relay_nodes",
    metadata,
    sa.Column("node_id", sa.String(MAX_NODE_ID_LEN), primary_key=True),
    sa.Column("address", sa.String(MAX_NODE_ADDRESS_LEN), nullable=False),
    sa.Column("started_at", sa.Double(), nullable=False),
    sa.Column("heartbeat_at", sa.Double(), nullable=False),
    sa.Column("expires_at", sa.Double(), nullable=False),
    sa.Column("hosts", sa.Integer(), nullable=False),
    sa.Column("sessions", sa.Integer(), nullable=False),
    sa.Column("max_hosts", sa.Integer(), nullable=False),
    sa.Column("draining", sa.Boolean(), nullable=False),
)

# Which node holds each online office PC's control channel. The lease is the node's own row:
# a location on a node whose row expired names nobody.
host_locations = sa.Table(
    "host_locations",
    metadata,
    sa.Column("host_id", sa.String(MAX_HOST_ID_LEN), primary_key=True),
    sa.Column("node_id", sa.String(MAX_NODE_ID_LEN), nullable=False),
    sa.Column("since", sa.Double(), nullable=False),
    sa.Index(None, "node_id"),
)

# Every node's live sessions, for the admin API of any node: written at start, byte counts
# renewed each heartbeat, removed at the end (or with its node once that node is found dead).
cluster_sessions = sa.Table(
    "cluster_sessions",
    metadata,
    sa.Column("session_id", sa.String(64), primary_key=True),
    sa.Column("node_id", sa.String(MAX_NODE_ID_LEN), nullable=False),
    sa.Column("tenant", sa.String(MAX_TENANT_NAME_LEN), nullable=False),
    sa.Column("login", sa.String(MAX_LOGIN_LEN), nullable=False),
    sa.Column("host_id", sa.String(MAX_HOST_ID_LEN), nullable=False),
    sa.Column("source", sa.String(MAX_AUDIT_SOURCE_LEN), nullable=False),
    sa.Column("started_at", sa.Double(), nullable=False),
    sa.Column("bytes_to_viewer", sa.BigInteger(), nullable=False),
    sa.Column("bytes_to_host", sa.BigInteger(), nullable=False),
    sa.Column("updated_at", sa.Double(), nullable=False),
    sa.Index(None, "node_id"),
    sa.Index(None, "tenant"),
)

# --- shared lockouts and admin sign-ins (migration 0005) -----------------------------------------

# A lockout's kind ("user", "source", "noisy"): which count a failure belongs to.
MAX_LOCKOUT_KIND_LEN = 16
# SHA-256 hex: lockout keys (typed names, addresses) and admin tokens are stored as digests only.
DIGEST_LEN = 64

# Failures every relay node counts a lockout by, one row each: a key's failures within its
# window are the rows whose ``expires_at`` (failed_at + the window) is still ahead. Rows whose
# window passed are deleted with each write, and a key's rows go when it locks, so a key has
# at most its lockout's failure limit of rows.
lockout_failures = sa.Table(
    "lockout_failures",
    metadata,
    sa.Column("id", _Id, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(MAX_LOCKOUT_KIND_LEN), nullable=False),
    sa.Column("key_digest", sa.String(DIGEST_LEN), nullable=False),
    sa.Column("failed_at", sa.Double(), nullable=False),
    sa.Column("expires_at", sa.Double(), nullable=False),
    sa.Index(None, "kind", "key_digest"),
    sa.Index(None, "expires_at"),
)

# Keys locked out on every node until ``locked_until``; ended locks are deleted with each write.
lockout_locks = sa.Table(
    "lockout_locks",
    metadata,
    sa.Column("kind", sa.String(MAX_LOCKOUT_KIND_LEN), primary_key=True),
    sa.Column("key_digest", sa.String(DIGEST_LEN), primary_key=True),
    sa.Column("locked_until", sa.Double(), nullable=False),
    sa.Index(None, "locked_until"),
)

# Admin sign-ins, accepted by every node and kept over restarts: the SHA-256 of the bearer
# token (never the token), whom it signs in, and until when. Expired rows are deleted with each
# sign-in; their number is bounded by relay.admin.auth.MAX_ADMIN_TOKENS.
admin_tokens = sa.Table(
    "admin_tokens",
    metadata,
    sa.Column("digest", sa.String(DIGEST_LEN), primary_key=True),
    sa.Column("login", sa.String(MAX_LOGIN_LEN), nullable=False),
    sa.Column("tenant", sa.String(MAX_TENANT_NAME_LEN), nullable=True),
    sa.Column("issued_at", sa.Double(), nullable=False),
    sa.Column("expires_at", sa.Double(), nullable=False),
    sa.Index(None, "issued_at"),
    sa.Index(None, "expires_at"),
)

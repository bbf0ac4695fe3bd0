"""The relay's directory: tenants, staff users and their OTP secrets, hosts, grants, audit log.

Synchronous on purpose (SQLAlchemy Core 2.x); the relay calls it from a thread executor. SQLite
in the data directory by default, in WAL mode with ``synchronous=FULL`` so that a committed audit
record survives a crash and the manage CLI can write while the relay runs. Queries use only
portable SQL, so the same code runs on PostgreSQL (:meth:`Directory.from_url`).

Single use (TOTP steps, one-time codes, enrolment tokens, resume tickets) is enforced by
compare-and-set updates in the database (``UPDATE ... WHERE used_at IS NULL`` and checking the
row count), so it holds across threads and processes. On SQLite, write transactions start with
``BEGIN IMMEDIATE`` so a read-then-write transaction never fails on a lock upgrade.

Secrets: TOTP seeds are sealed with the :class:`SecretBox` (key file apart from the database),
one-time codes are salted scrypt hashes, and the 256-bit random tokens (enrolment, host secret,
resume ticket) are stored as SHA-256 digests, which is enough for secrets of that entropy.

Lookups fed by a peer (:meth:`verify_otp`, :meth:`authenticate_host`, redeeming) never raise for
bad input; operator actions raise :class:`InvalidInput`, :class:`NotFound` or
:class:`AlreadyExists` with a clear message and change nothing.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import os
import re
import secrets
import time
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from core.auth.one_time_codes import (
    DUMMY_CODE_HASH,
    MAX_CODES_PER_ISSUE,
    OtpShape,
    generate_codes,
    hash_code,
    shape_of,
    verify_code,
)
from core.auth.passwords import DUMMY_HASH, hash_password, verify_password
from core.auth.totp import new_totp_secret, verify_totp
from core.crypto.secret_box import SecretBox
from core.errors import CryptoError
from core.policy import MAX_MACS, Policy, PolicyError, normalise_mac
from relay.store import migrate
from relay.store.errors import AlreadyExists, EnrollmentRefused, InvalidInput, NotFound
from relay.store.schema import (
    MAX_AGENT_VERSION_LEN,
    MAX_AUDIT_EVENT_LEN,
    MAX_AUDIT_SOURCE_LEN,
    MAX_CERT_PEM_LEN,
    MAX_DEVICE_FINGERPRINT_LEN,
    MAX_HOST_ID_LEN,
    MAX_HOST_NAME_LEN,
    MAX_LOGIN_LEN,
    MAX_MAC_LABEL_LEN,
    MAX_POLICY_JSON_LEN,
    MAX_TENANT_NAME_LEN,
    admins,
    audit,
    enrollment_tokens,
    grants,
    home_macs,
    host_policies,
    hosts,
    one_time_codes,
    resume_tickets,
    tenant_settings,
    tenants,
    users,
)

# File names inside the data directory.
DB_FILENAME = "directory.sqlite3"
SECRET_KEY_FILENAME = "directory.key"  # noqa: S105 (a file name, not a secret)
# Owner-only permissions: the database holds hashes, sealed seeds and the audit log.
DATA_DIR_MODE = 0o700
DB_FILE_MODE = 0o600
# How long a writer waits for another (the relay vs. the manage CLI) before giving up; writes
# take milliseconds, so 30 s only ever runs out if something is badly stuck.
SQLITE_BUSY_TIMEOUT_S = 30.0
# Random bytes in enrolment tokens, host secrets and resume tickets: 256 bits, beyond guessing,
# which is why a plain SHA-256 digest is a safe way to store them.
TOKEN_BYTES = 32
# Longest token/secret/ticket text looked at; ours are 43 characters, anything longer is junk.
MAX_TOKEN_INPUT_LEN = 256
# Longest an enrolment token may live: a week covers "install it on Monday" without leaving
# forgotten tokens valid for ever.
MAX_ENROLLMENT_TTL_S = 7 * 24 * 3600.0
# Longest a resume ticket may live: a working day. Reconnects skip the OTP only within it.
MAX_RESUME_TICKET_TTL_S = 12 * 3600.0
# Largest audit detail, as UTF-8 JSON: enough for MAC lists and byte counts, small enough that
# the log cannot be used to fill the disk quickly.
MAX_AUDIT_DETAIL_BYTES = 8 * 1024
# Most audit records one list_audit call returns.
MAX_AUDIT_LIMIT = 100_000
DEFAULT_AUDIT_LIMIT = 1000
# Random bytes of an admin's initial password: 120 bits, 20 URL-safe characters to type once.
ADMIN_PASSWORD_BYTES = 15
# Tenant bandwidth limits in bit/s. An alert below one session's share of 0.1 Mbit/s would fire
# on any use; a cap below it would starve sessions (a cap lowers budgets, it never cuts); 10
# Gbit/s is beyond any municipal network.
MIN_TENANT_ALERT_BPS = 1_000
MIN_TENANT_CAP_BPS = 10_000
MAX_TENANT_BPS = 10_000_000_000

_HOST_ID_PATTERN = re.compile(rf"[\x21-\x7e]{{1,{MAX_HOST_ID_LEN}}}")
_EVENT_PATTERN = re.compile(rf"[a-z][a-z0-9_.-]{{0,{MAX_AUDIT_EVENT_LEN - 1}}}")


class OtpResult(enum.Enum):
    """Outcome of :meth:`Directory.verify_otp`.

    ``DISABLED`` is only reported to a caller who presented a valid OTP, so it tells a guesser
    nothing; ``UNKNOWN_USER`` and ``WRONG`` should look the same to the viewer.
    """

    TOTP_OK = "totp_ok"
    CODE_OK = "code_ok"
    WRONG = "wrong"
    UNKNOWN_USER = "unknown_user"
    DISABLED = "disabled"


@dataclass(frozen=True)
class Tenant:
    name: str
    created_at: float


@dataclass(frozen=True)
class User:
    tenant: str
    login: str
    disabled: bool
    created_at: float
    last_login_at: float | None


@dataclass(frozen=True)
class Host:
    host_id: str
    tenant: str
    name: str
    cert_pem: str
    agent_version: str
    created_at: float
    last_seen_at: float | None
    retired: bool


@dataclass(frozen=True)
class Admin:
    login: str
    tenant: str | None  # None: an operator, who administers every tenant
    disabled: bool
    created_at: float
    last_login_at: float | None


@dataclass(frozen=True)
class MacRegistration:
    id: int
    tenant: str
    mac: str
    login: str | None  # owner: a staff user ...
    host_id: str | None  # ... or an office PC
    label: str
    created_at: float


@dataclass(frozen=True)
class AuditRecord:
    id: int
    ts: float
    event: str
    tenant: str | None
    user: str | None
    host_id: str | None
    source: str | None
    detail: dict[str, Any]


# --- input checks -------------------------------------------------------------------------------


def _clean_name(value: object, what: str, max_len: int) -> str:
    """NFKC-normalised ``value``; :class:`InvalidInput` if empty, too long or not plain text."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text")
    text = unicodedata.normalize("NFKC", value)
    if not text:
        raise InvalidInput(f"{what} must not be empty")
    if len(text) > max_len:
        raise InvalidInput(f"{what} is longer than {max_len} characters")
    if text != text.strip():
        raise InvalidInput(f"{what} must not start or end with spaces")
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise InvalidInput(f"{what} must not contain control or invisible characters")
    return text


def _tenant_name(value: object) -> str:
    return _clean_name(value, "tenant name", MAX_TENANT_NAME_LEN)


def _login(value: object) -> str:
    return _clean_name(value, "login", MAX_LOGIN_LEN)


def _host_id(value: object) -> str:
    if not isinstance(value, str) or not _HOST_ID_PATTERN.fullmatch(value):
        raise InvalidInput(f"host ID must be 1 to {MAX_HOST_ID_LEN} printable ASCII characters")
    return value


def canonical_login(value: object) -> str:
    """A login as the directory stores and compares it (NFKC: "ｓａｔｏ" is "sato");
    :class:`InvalidInput` if no login can be spelled so."""
    return _login(value)


def canonical_names(tenant: object, login: object) -> tuple[str, str] | None:
    """Cleaned names for a lookup, or None if they cannot name anything (peer input)."""
    try:
        return _tenant_name(tenant), _login(login)
    except InvalidInput:
        return None


def account_key(*names: str) -> str:
    """What lockouts count an account's failures by: its names as the directory compares them
    (NFKC), so "ａｌｉｃｅ" and "alice", which find the same account, share one count."""
    return "\x00".join(unicodedata.normalize("NFKC", name) for name in names)


def _ttl(ttl_s: float, maximum: float, what: str) -> float:
    if not 0 < ttl_s <= maximum:
        raise InvalidInput(f"{what} lifetime must be more than 0 and at most {maximum:g} s")
    return float(ttl_s)


def _new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def _token_digest(token: object) -> str | None:
    """SHA-256 hex of a presented token, or None if it cannot be one of ours."""
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_INPUT_LEN:
        return None
    if not token.isascii():
        return None
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _totp_context(tenant: str, login: str) -> bytes:
    """Associated data binding a sealed TOTP seed to its user: a moved ciphertext won't open."""
    return b"\0".join((b"telework/users.totp_secret/v1", tenant.encode(), login.encode()))


def _admin_totp_context(login: str) -> bytes:
    return b"\0".join((b"telework/admins.totp_secret/v1", login.encode()))


def _dump_policy(policy: dict[str, Any]) -> str:
    """A policy validated by core.policy and in its normal form, as JSON text for the store."""
    try:
        parsed = Policy.from_dict(policy)
    except PolicyError as exc:
        raise InvalidInput(str(exc)) from None
    if parsed.allowed_macs is not None:
        raise InvalidInput("register home PCs instead of setting allowed_macs in a policy")
    text = json.dumps(parsed.to_dict(), sort_keys=True)
    if len(text) > MAX_POLICY_JSON_LEN:
        raise InvalidInput(f"policy is longer than {MAX_POLICY_JSON_LEN} characters")
    return text


def _load_policy(text: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(text)
    return value


def _clip(value: str | None, max_len: int) -> str | None:
    return None if value is None else value[:max_len]


# --- the directory ------------------------------------------------------------------------------


class Directory:
    """Tenants, users, hosts, grants, tickets and the audit log, over SQLAlchemy Core."""

    def __init__(self, engine: sa.Engine, secret_box: SecretBox) -> None:
        """Use :meth:`open` or :meth:`from_url`; this expects a migrated, configured engine."""
        self._engine = engine
        self._writer = engine.execution_options(telework_write=True)
        self._box = secret_box
        # Opened for unknown users so a TOTP check costs the same whether the user exists.
        self._dummy_sealed = secret_box.seal(new_totp_secret().encode(), b"telework/dummy")
        self._dummy_token_digest = hashlib.sha256(secrets.token_bytes(TOKEN_BYTES)).hexdigest()

    @classmethod
    def open(cls, data_dir: Path) -> Directory:
        """The default store: ``directory.sqlite3`` and its key file in ``data_dir`` (created)."""
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True, mode=DATA_DIR_MODE)
        box = SecretBox.load_or_create(data_dir / SECRET_KEY_FILENAME)
        db_path = data_dir / DB_FILENAME
        # Create the file ourselves so it is private from the start; SQLite gives its -wal and
        # -shm files the same permissions as the database.
        os.close(os.open(db_path, os.O_WRONLY | os.O_CREAT, DB_FILE_MODE))
        url = sa.URL.create("sqlite", database=str(db_path))
        return cls.from_url(url.render_as_string(hide_password=False), box)

    @classmethod
    def from_url(cls, url: str, secret_box: SecretBox) -> Directory:
        """A store at any SQLAlchemy URL (SQLite or PostgreSQL), migrated to the newest schema."""
        engine = _create_engine(url)
        try:
            with engine.execution_options(telework_write=True).begin() as conn:
                migrate.upgrade(conn)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, secret_box)

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> Directory:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self._engine.begin() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        with self._writer.begin() as conn:
            yield conn

    # --- tenants --------------------------------------------------------------------------------

    def add_tenant(self, name: str, *, now: float | None = None) -> Tenant:
        name = _tenant_name(name)
        created = time.time() if now is None else now
        try:
            with self._write() as conn:
                if _tenant_id(conn, name) is not None:
                    raise AlreadyExists(f"tenant {name!r} already exists")
                conn.execute(sa.insert(tenants).values(name=name, created_at=created))
        except sa.exc.IntegrityError:
            raise AlreadyExists(f"tenant {name!r} already exists") from None
        return Tenant(name, created)

    def get_tenant(self, name: str) -> Tenant | None:
        try:
            name = _tenant_name(name)
        except InvalidInput:
            return None
        with self._read() as conn:
            row = conn.execute(
                sa.select(tenants.c.name, tenants.c.created_at).where(tenants.c.name == name)
            ).first()
        return None if row is None else Tenant(row.name, row.created_at)

    def list_tenants(self) -> list[Tenant]:
        with self._read() as conn:
            rows = conn.execute(
                sa.select(tenants.c.name, tenants.c.created_at).order_by(tenants.c.name)
            ).all()
        return [Tenant(row.name, row.created_at) for row in rows]

    # --- users ----------------------------------------------------------------------------------

    def add_user(self, tenant: str, login: str, *, now: float | None = None) -> tuple[User, str]:
        """Create a user; returns it and its TOTP secret (shown once, stored only sealed)."""
        tenant, login = _tenant_name(tenant), _login(login)
        created = time.time() if now is None else now
        secret = new_totp_secret()
        sealed = self._box.seal(secret.encode(), _totp_context(tenant, login))
        try:
            with self._write() as conn:
                tenant_id = _require_tenant(conn, tenant)
                if _user_row(conn, tenant, login) is not None:
                    raise AlreadyExists(f"user {login!r} already exists in tenant {tenant!r}")
                conn.execute(
                    sa.insert(users).values(
                        tenant_id=tenant_id,
                        login=login,
                        totp_secret_sealed=sealed,
                        totp_last_step=None,
                        disabled=False,
                        created_at=created,
                        last_login_at=None,
                    )
                )
        except sa.exc.IntegrityError:
            raise AlreadyExists(f"user {login!r} already exists in tenant {tenant!r}") from None
        return User(tenant, login, False, created, None), secret

    def get_user(self, tenant: str, login: str) -> User | None:
        names = canonical_names(tenant, login)
        if names is None:
            return None
        with self._read() as conn:
            row = _user_row(conn, *names)
        return None if row is None else _user(row)

    def list_users(self, tenant: str) -> list[User]:
        tenant = _tenant_name(tenant)
        with self._read() as conn:
            _require_tenant(conn, tenant)
            rows = conn.execute(_user_select().where(tenants.c.name == tenant)).all()
        return sorted((_user(row) for row in rows), key=lambda user: user.login)

    def set_user_disabled(self, tenant: str, login: str, disabled: bool) -> None:
        tenant, login = _tenant_name(tenant), _login(login)
        with self._write() as conn:
            user_id = _require_user(conn, tenant, login)
            conn.execute(sa.update(users).where(users.c.id == user_id).values(disabled=disabled))
            if disabled:
                conn.execute(sa.delete(resume_tickets).where(resume_tickets.c.user_id == user_id))

    def delete_user(self, tenant: str, login: str) -> None:
        """Delete a user with their codes, grants and resume tickets (the audit log stays)."""
        tenant, login = _tenant_name(tenant), _login(login)
        with self._write() as conn:
            user_id = _require_user(conn, tenant, login)
            # Explicit rather than trusting ON DELETE CASCADE, which SQLite only honours when
            # foreign keys are on for that connection.
            for table in (one_time_codes, grants, resume_tickets):
                conn.execute(sa.delete(table).where(table.c.user_id == user_id))
            conn.execute(sa.delete(users).where(users.c.id == user_id))

    def reset_totp(self, tenant: str, login: str) -> str:
        """Give the user a new TOTP secret (returned once); the old one stops working at once."""
        tenant, login = _tenant_name(tenant), _login(login)
        secret = new_totp_secret()
        sealed = self._box.seal(secret.encode(), _totp_context(tenant, login))
        with self._write() as conn:
            user_id = _require_user(conn, tenant, login)
            conn.execute(
                sa.update(users)
                .where(users.c.id == user_id)
                .values(totp_secret_sealed=sealed, totp_last_step=None)
            )
        return secret

    def issue_codes(
        self, tenant: str, login: str, count: int, *, now: float | None = None
    ) -> list[str]:
        """Issue ``count`` single-use codes (returned once, stored hashed).

        A new issue replaces the user's unused codes: a lost or leaked sheet is revoked by
        printing a new one, and a login never has more than MAX_CODES_PER_ISSUE hashes to check.
        """
        tenant, login = _tenant_name(tenant), _login(login)
        if not isinstance(count, int) or not 1 <= count <= MAX_CODES_PER_ISSUE:
            raise InvalidInput(f"code count must be between 1 and {MAX_CODES_PER_ISSUE}")
        created = time.time() if now is None else now
        with self._read() as conn:
            _require_user(conn, tenant, login)
        codes = generate_codes(count)
        hashed = [hash_code(code) for code in codes]  # slow: outside any write transaction
        with self._write() as conn:
            user_id = _require_user(conn, tenant, login)
            conn.execute(
                sa.delete(one_time_codes).where(
                    one_time_codes.c.user_id == user_id, one_time_codes.c.used_at.is_(None)
                )
            )
            conn.execute(
                sa.insert(one_time_codes),
                [
                    {"user_id": user_id, "code_hash": h, "created_at": created, "used_at": None}
                    for h in hashed
                ],
            )
        return codes

    def verify_otp(self, tenant: str, login: str, otp: str, now: float) -> OtpResult:
        """Check a TOTP or one-time code and consume it (atomically, at most once)."""
        shape = shape_of(otp) if isinstance(otp, str) else OtpShape.INVALID
        names = canonical_names(tenant, login)
        row = None
        live_codes: Sequence[Any] = ()
        with self._read() as conn:
            if names is not None:
                row = _user_row(conn, *names)
            if row is not None and shape is OtpShape.CODE:
                live_codes = conn.execute(
                    sa.select(one_time_codes.c.id, one_time_codes.c.code_hash)
                    .where(one_time_codes.c.user_id == row.id, one_time_codes.c.used_at.is_(None))
                    .order_by(one_time_codes.c.id)
                    .limit(MAX_CODES_PER_ISSUE)
                ).all()
        if shape is OtpShape.TOTP:
            return self._verify_totp(row, otp, now)
        if shape is OtpShape.CODE:
            return self._verify_code(row, live_codes, otp, now)
        return OtpResult.UNKNOWN_USER if row is None else OtpResult.WRONG

    def _verify_totp(self, row: sa.Row[Any] | None, otp: str, now: float) -> OtpResult:
        if row is None:
            dummy = self._box.open(self._dummy_sealed, b"telework/dummy").decode()
            verify_totp(dummy, otp, now, None)
            return OtpResult.UNKNOWN_USER
        try:
            secret = self._box.open(row.totp_secret_sealed, _totp_context(row.tenant, row.login))
        except CryptoError:
            return OtpResult.WRONG  # a damaged or moved seed must not let anyone in
        step = verify_totp(secret.decode(), otp, now, row.totp_last_step)
        if step is None:
            return OtpResult.WRONG
        if row.disabled:
            return OtpResult.DISABLED
        with self._write() as conn:
            consumed = conn.execute(
                sa.update(users)
                .where(
                    users.c.id == row.id,
                    sa.not_(users.c.disabled),
                    sa.or_(users.c.totp_last_step.is_(None), users.c.totp_last_step < step),
                )
                .values(totp_last_step=step, last_login_at=now)
            ).rowcount
        return OtpResult.TOTP_OK if consumed == 1 else OtpResult.WRONG

    def _verify_code(
        self, row: sa.Row[Any] | None, live_codes: Sequence[Any], otp: str, now: float
    ) -> OtpResult:
        # Always check MAX_CODES_PER_ISSUE hashes, padding with a dummy: the time taken says
        # neither whether the user exists nor how many codes they have left.
        padded = [code.code_hash for code in live_codes]
        padded += [DUMMY_CODE_HASH] * (MAX_CODES_PER_ISSUE - len(padded))
        matched: int | None = None
        for index, hashed in enumerate(padded):
            if verify_code(otp, hashed) and matched is None and index < len(live_codes):
                matched = live_codes[index].id
        if row is None:
            return OtpResult.UNKNOWN_USER
        if matched is None:
            return OtpResult.WRONG
        if row.disabled:
            return OtpResult.DISABLED
        with self._write() as conn:
            consumed = conn.execute(
                sa.update(one_time_codes)
                .where(one_time_codes.c.id == matched, one_time_codes.c.used_at.is_(None))
                .values(used_at=now)
            ).rowcount
            if consumed == 1:
                conn.execute(sa.update(users).where(users.c.id == row.id).values(last_login_at=now))
        return OtpResult.CODE_OK if consumed == 1 else OtpResult.WRONG

    # --- hosts ----------------------------------------------------------------------------------

    def issue_enrollment_token(self, tenant: str, ttl_s: float, now: float) -> str:
        """A single-use token that enrols one host into ``tenant`` within ``ttl_s`` seconds."""
        tenant = _tenant_name(tenant)
        ttl = _ttl(ttl_s, MAX_ENROLLMENT_TTL_S, "enrolment token")
        token = _new_token()
        with self._write() as conn:
            tenant_id = _require_tenant(conn, tenant)
            conn.execute(
                sa.insert(enrollment_tokens).values(
                    token_hash=_token_digest(token),
                    tenant_id=tenant_id,
                    created_at=now,
                    expires_at=now + ttl,
                    used_at=None,
                    host_id=None,
                )
            )
        return token

    def redeem_enrollment_token(
        self,
        token: str,
        host_id: str,
        cert_pem: str,
        name: str,
        agent_version: str,
        now: float,
    ) -> tuple[str, str]:
        """Enrol a host with ``token``; returns (tenant name, host secret shown once).

        Raises :class:`EnrollmentRefused` (reason ``token_unknown``, ``token_used``,
        ``token_expired``, ``host_exists`` or ``bad_request``); a refusal consumes nothing.
        """
        try:
            host_id = _host_id(host_id)
            name = _clean_name(name, "host name", MAX_HOST_NAME_LEN)
            agent_version = _clean_name(agent_version, "agent version", MAX_AGENT_VERSION_LEN)
        except InvalidInput as exc:
            raise EnrollmentRefused("bad_request", str(exc)) from None
        if not isinstance(cert_pem, str) or not 0 < len(cert_pem) <= MAX_CERT_PEM_LEN:
            raise EnrollmentRefused("bad_request", "certificate missing or too large")
        digest = _token_digest(token)
        secret = _new_token()
        with self._write() as conn:
            row = None
            if digest is not None:
                row = conn.execute(
                    sa.select(enrollment_tokens, tenants.c.name.label("tenant"))
                    .join(tenants, tenants.c.id == enrollment_tokens.c.tenant_id)
                    .where(enrollment_tokens.c.token_hash == digest)
                ).first()
            if row is None:
                raise EnrollmentRefused("token_unknown", "enrolment token not recognised")
            if row.used_at is not None:
                raise EnrollmentRefused("token_used", "enrolment token was already used")
            if row.expires_at <= now:
                raise EnrollmentRefused("token_expired", "enrolment token has expired")
            exists = conn.execute(sa.select(hosts.c.host_id).where(hosts.c.host_id == host_id))
            if exists.first() is not None:
                raise EnrollmentRefused("host_exists", "a host with this ID is already enrolled")
            consumed = conn.execute(
                sa.update(enrollment_tokens)
                .where(enrollment_tokens.c.id == row.id, enrollment_tokens.c.used_at.is_(None))
                .values(used_at=now, host_id=host_id)
            ).rowcount
            if consumed != 1:
                raise EnrollmentRefused("token_used", "enrolment token was already used")
            conn.execute(
                sa.insert(hosts).values(
                    host_id=host_id,
                    tenant_id=row.tenant_id,
                    name=name,
                    cert_pem=cert_pem,
                    secret_hash=_token_digest(secret),
                    agent_version=agent_version,
                    created_at=now,
                    last_seen_at=None,
                    retired=False,
                )
            )
        return row.tenant, secret

    def authenticate_host(self, host_id: str, secret: str, now: float) -> Host | None:
        """The host if ``secret`` is its enrolment credential and it is not retired; else None."""
        digest = _token_digest(secret) or self._dummy_token_digest
        row = None
        if isinstance(host_id, str) and _HOST_ID_PATTERN.fullmatch(host_id):
            with self._read() as conn:
                row = conn.execute(_host_select().where(hosts.c.host_id == host_id)).first()
        stored = self._dummy_token_digest if row is None else row.secret_hash
        matches = hmac.compare_digest(digest.encode(), stored.encode())
        if row is None or not matches or row.retired:
            return None
        with self._write() as conn:
            conn.execute(
                sa.update(hosts).where(hosts.c.host_id == host_id).values(last_seen_at=now)
            )
        return _host(row, last_seen_at=now)

    def get_host(self, host_id: str) -> Host | None:
        if not isinstance(host_id, str) or not _HOST_ID_PATTERN.fullmatch(host_id):
            return None
        with self._read() as conn:
            row = conn.execute(_host_select().where(hosts.c.host_id == host_id)).first()
        return None if row is None else _host(row)

    def list_hosts(self, tenant: str, *, include_retired: bool = False) -> list[Host]:
        tenant = _tenant_name(tenant)
        query = _host_select().where(tenants.c.name == tenant).order_by(hosts.c.name)
        if not include_retired:
            query = query.where(sa.not_(hosts.c.retired))
        with self._read() as conn:
            _require_tenant(conn, tenant)
            rows = conn.execute(query).all()
        return [_host(row) for row in rows]

    def rename_host(self, tenant: str, host_id: str, name: str) -> str:
        """Rename a live host of ``tenant``; returns the name as stored (NFKC)."""
        tenant, host_id = _tenant_name(tenant), _host_id(host_id)
        name = _clean_name(name, "host name", MAX_HOST_NAME_LEN)
        with self._write() as conn:
            _require_host(conn, tenant, host_id)
            conn.execute(sa.update(hosts).where(hosts.c.host_id == host_id).values(name=name))
        return name

    def retire_host(self, tenant: str, host_id: str) -> None:
        """Retire a host for good: it can no longer authenticate; its grants and tickets go."""
        tenant, host_id = _tenant_name(tenant), _host_id(host_id)
        with self._write() as conn:
            _require_host(conn, tenant, host_id)
            conn.execute(sa.update(hosts).where(hosts.c.host_id == host_id).values(retired=True))
            for table in (grants, resume_tickets):
                conn.execute(sa.delete(table).where(table.c.host_id == host_id))

    # --- grants ---------------------------------------------------------------------------------

    def grant(self, tenant: str, login: str, host_id: str, *, now: float | None = None) -> None:
        """Allow the user to use the host (both in ``tenant``). Granting twice is harmless.

        The user's home PCs join the host's central list: refused if it would grow past the
        policy's MAX_MACS (the host would reject the whole policy). Checked in the same write
        transaction as the insert, so grants racing each other cannot both slip under it.
        """
        tenant, login, host_id = _tenant_name(tenant), _login(login), _host_id(host_id)
        created = time.time() if now is None else now
        try:
            with self._write() as conn:
                user_id = _require_user(conn, tenant, login)
                _require_host(conn, tenant, host_id)
                existing = conn.execute(
                    sa.select(grants.c.user_id).where(
                        grants.c.user_id == user_id, grants.c.host_id == host_id
                    )
                ).first()
                if existing is None:
                    user_macs = conn.execute(
                        sa.select(home_macs.c.mac).where(home_macs.c.user_id == user_id)
                    )
                    _check_central_list(conn, host_id, {row.mac for row in user_macs})
                    conn.execute(
                        sa.insert(grants).values(
                            user_id=user_id, host_id=host_id, created_at=created
                        )
                    )
        except sa.exc.IntegrityError:
            pass  # a concurrent grant of the same pair won: the grant exists, as asked

    def revoke(self, tenant: str, login: str, host_id: str) -> bool:
        """Withdraw a grant; True if there was one. Resume tickets for the pair go too."""
        tenant, login, host_id = _tenant_name(tenant), _login(login), _host_id(host_id)
        with self._write() as conn:
            user_id = _require_user(conn, tenant, login)
            removed = conn.execute(
                sa.delete(grants).where(grants.c.user_id == user_id, grants.c.host_id == host_id)
            ).rowcount
            conn.execute(
                sa.delete(resume_tickets).where(
                    resume_tickets.c.user_id == user_id, resume_tickets.c.host_id == host_id
                )
            )
        return removed > 0

    def is_granted(self, tenant: str, login: str, host_id: str) -> bool:
        """True if the user may use the host: granted, same tenant, host not retired, user not
        disabled."""
        names = canonical_names(tenant, login)
        if names is None or not isinstance(host_id, str):
            return False
        with self._read() as conn:
            return _granted(conn, names[0], names[1], host_id)

    def list_grants(self, tenant: str) -> list[tuple[str, str]]:
        """(login, host ID) pairs granted in ``tenant``."""
        tenant = _tenant_name(tenant)
        with self._read() as conn:
            _require_tenant(conn, tenant)
            rows = conn.execute(
                sa.select(users.c.login, grants.c.host_id)
                .join(users, users.c.id == grants.c.user_id)
                .join(tenants, tenants.c.id == users.c.tenant_id)
                .where(tenants.c.name == tenant)
                .order_by(users.c.login, grants.c.host_id)
            ).all()
        return [(row.login, row.host_id) for row in rows]

    # --- resume tickets -------------------------------------------------------------------------

    def issue_resume_ticket(
        self,
        tenant: str,
        login: str,
        host_id: str,
        device_fingerprint: str,
        ttl_s: float,
        now: float,
    ) -> str:
        """A single-use ticket letting this user on this device reconnect to this host."""
        tenant, login, host_id = _tenant_name(tenant), _login(login), _host_id(host_id)
        device = _device_fingerprint(device_fingerprint)
        ttl = _ttl(ttl_s, MAX_RESUME_TICKET_TTL_S, "resume ticket")
        ticket = _new_token()
        with self._write() as conn:
            user_id = _require_user(conn, tenant, login)
            _require_host(conn, tenant, host_id)
            # Housekeeping: expired tickets can never be redeemed, drop them as we go.
            conn.execute(sa.delete(resume_tickets).where(resume_tickets.c.expires_at <= now))
            conn.execute(
                sa.insert(resume_tickets).values(
                    ticket_hash=_token_digest(ticket),
                    user_id=user_id,
                    host_id=host_id,
                    device_fingerprint=device,
                    created_at=now,
                    expires_at=now + ttl,
                )
            )
        return ticket

    def redeem_resume_ticket(
        self, ticket: str, host_id: str, device_fingerprint: str, now: float
    ) -> tuple[str, str] | None:
        """(tenant, login) if the ticket is live and matches host and device; else None.

        Any presentation uses the ticket up, matching or not: a ticket shown from the wrong
        device may have been stolen, so it must not stay valid for the thief's next try.
        The user must still be enabled and granted the host.
        """
        digest = _token_digest(ticket)
        if digest is None:
            return None
        with self._write() as conn:
            row = conn.execute(
                sa.select(resume_tickets, users.c.login, users.c.disabled, tenants.c.name)
                .join(users, users.c.id == resume_tickets.c.user_id)
                .join(tenants, tenants.c.id == users.c.tenant_id)
                .where(resume_tickets.c.ticket_hash == digest)
            ).first()
            if row is None:
                return None
            consumed = conn.execute(
                sa.delete(resume_tickets).where(resume_tickets.c.ticket_hash == digest)
            ).rowcount
            usable = (
                consumed == 1
                and row.expires_at > now
                and row.host_id == host_id
                and row.device_fingerprint == device_fingerprint
                and not row.disabled
                and _granted(conn, row.name, row.login, host_id)
            )
        return (row.name, row.login) if usable else None

    def set_resume_ticket_expiry(self, ticket: str, expires_at: float, now: float) -> bool:
        """Move a live ticket's expiry: renew it while its session runs, restart its time when
        the session ends, or end it (``expires_at == now``). False if the ticket is gone.

        A ticket already used or expired is never brought back, so single use stays single use.
        """
        if not now <= expires_at <= now + MAX_RESUME_TICKET_TTL_S:
            raise InvalidInput(f"resume ticket expiry must be within {MAX_RESUME_TICKET_TTL_S:g} s")
        digest = _token_digest(ticket)
        if digest is None:
            return False
        with self._write() as conn:
            changed = conn.execute(
                sa.update(resume_tickets)
                .where(resume_tickets.c.ticket_hash == digest, resume_tickets.c.expires_at > now)
                .values(expires_at=expires_at)
            ).rowcount
        return bool(changed == 1)

    # --- audit ----------------------------------------------------------------------------------

    def audit(
        self,
        event: str,
        *,
        tenant: str | None = None,
        user: str | None = None,
        host_id: str | None = None,
        source: str | None = None,
        detail: dict[str, Any] | None = None,
        now: float,
    ) -> None:
        """Append an audit record and commit it at once (durable on return).

        ``event`` is a code we choose (``[a-z][a-z0-9_.-]*``). Names may come from a peer, so
        they are cut to their column size rather than refused: the record must always be made.
        """
        if not isinstance(event, str) or not _EVENT_PATTERN.fullmatch(event):
            raise InvalidInput(f"audit event must match {_EVENT_PATTERN.pattern}")
        try:
            detail_json = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"audit detail is not JSON-serialisable: {exc}") from None
        if len(detail_json.encode()) > MAX_AUDIT_DETAIL_BYTES:
            raise InvalidInput(f"audit detail is larger than {MAX_AUDIT_DETAIL_BYTES} bytes")
        with self._write() as conn:
            conn.execute(
                sa.insert(audit).values(
                    ts=now,
                    event=event,
                    tenant=_clip(tenant, MAX_TENANT_NAME_LEN),
                    login=_clip(user, MAX_LOGIN_LEN),
                    host_id=_clip(host_id, MAX_HOST_ID_LEN),
                    source=_clip(source, MAX_AUDIT_SOURCE_LEN),
                    detail=detail_json,
                )
            )

    def list_audit(
        self,
        tenant: str | None = None,
        since: float | None = None,
        until: float | None = None,
        user: str | None = None,
        host_id: str | None = None,
        event: str | None = None,
        limit: int = DEFAULT_AUDIT_LIMIT,
    ) -> list[AuditRecord]:
        """The newest ``limit`` matching records, oldest first. ``since`` <= ts < ``until``.

        ``user`` matches however it is typed ("ｓａｔｏ" finds "sato"), as records keep logins
        as stored; text that no login can be (a refused login's typed name) matches as is.
        """
        if not isinstance(limit, int) or not 1 <= limit <= MAX_AUDIT_LIMIT:
            raise InvalidInput(f"audit limit must be between 1 and {MAX_AUDIT_LIMIT}")
        if user is not None:
            with suppress(InvalidInput):
                user = _login(user)
        query = sa.select(audit)
        for column, value in (
            (audit.c.tenant, tenant),
            (audit.c.login, user),
            (audit.c.host_id, host_id),
            (audit.c.event, event),
        ):
            if value is not None:
                query = query.where(column == value)
        if since is not None:
            query = query.where(audit.c.ts >= since)
        if until is not None:
            query = query.where(audit.c.ts < until)
        with self._read() as conn:
            rows = conn.execute(query.order_by(audit.c.id.desc()).limit(limit)).all()
        return [
            AuditRecord(
                id=row.id,
                ts=row.ts,
                event=row.event,
                tenant=row.tenant,
                user=row.login,
                host_id=row.host_id,
                source=row.source,
                detail=json.loads(row.detail),
            )
            for row in reversed(rows)
        ]

    # --- administrators (admin API and console) -----------------------------------------------

    def add_admin(
        self, login: str, tenant: str | None, *, now: float | None = None
    ) -> tuple[Admin, str, str]:
        """Create an operator (``tenant`` None) or a tenant admin.

        Returns the admin, their initial password and their TOTP secret, each shown once.
        """
        login = _login(login)
        tenant = None if tenant is None else _tenant_name(tenant)
        created = time.time() if now is None else now
        password = secrets.token_urlsafe(ADMIN_PASSWORD_BYTES)
        password_hash = hash_password(password)  # slow: outside any write transaction
        secret = new_totp_secret()
        sealed = self._box.seal(secret.encode(), _admin_totp_context(login))
        try:
            with self._write() as conn:
                tenant_id = None if tenant is None else _require_tenant(conn, tenant)
                if _admin_row(conn, login) is not None:
                    raise AlreadyExists(f"admin {login!r} already exists")
                conn.execute(
                    sa.insert(admins).values(
                        login=login,
                        tenant_id=tenant_id,
                        password_hash=password_hash,
                        totp_secret_sealed=sealed,
                        totp_last_step=None,
                        disabled=False,
                        created_at=created,
                        last_login_at=None,
                    )
                )
        except sa.exc.IntegrityError:
            raise AlreadyExists(f"admin {login!r} already exists") from None
        return Admin(login, tenant, False, created, None), password, secret

    def get_admin(self, login: str) -> Admin | None:
        try:
            login = _login(login)
        except InvalidInput:
            return None
        with self._read() as conn:
            row = _admin_row(conn, login)
        return None if row is None else _admin(row)

    def authenticate_admin(self, login: str, password: str, otp: str, now: float) -> Admin | None:
        """The admin if password and TOTP are right (the TOTP step is consumed); else None.

        Spends the same work on an unknown login (a dummy hash and seed), so the answer time
        does not tell which logins exist. A disabled admin never authenticates.
        """
        try:
            login = _login(login)
        except InvalidInput:
            login = ""
        row = None
        if login:
            with self._read() as conn:
                row = _admin_row(conn, login)
        password_ok = verify_password(
            password if isinstance(password, str) else "",
            DUMMY_HASH if row is None else row.password_hash,
        )
        if row is None:
            dummy = self._box.open(self._dummy_sealed, b"telework/dummy").decode()
            verify_totp(dummy, otp if isinstance(otp, str) else "", now, None)
            return None
        try:
            secret = self._box.open(row.totp_secret_sealed, _admin_totp_context(row.login))
        except CryptoError:
            return None
        step = verify_totp(secret.decode(), otp if isinstance(otp, str) else "", now, None)
        if not password_ok or step is None or row.disabled:
            return None
        with self._write() as conn:
            consumed = conn.execute(
                sa.update(admins)
                .where(
                    admins.c.id == row.id,
                    sa.or_(admins.c.totp_last_step.is_(None), admins.c.totp_last_step < step),
                )
                .values(totp_last_step=step, last_login_at=now)
            ).rowcount
        return _admin(row, last_login_at=now) if consumed == 1 else None

    def revoke_staff_credentials(self, tenant: str, login: str) -> None:
        """Reset a staff user: a new undisclosed TOTP seed, no unused codes, no resume tickets.

        The user cannot log in until an admin issues a new TOTP or codes.
        """
        tenant, login = _tenant_name(tenant), _login(login)
        sealed = self._box.seal(new_totp_secret().encode(), _totp_context(tenant, login))
        with self._write() as conn:
            user_id = _require_user(conn, tenant, login)
            conn.execute(
                sa.update(users)
                .where(users.c.id == user_id)
                .values(totp_secret_sealed=sealed, totp_last_step=None)
            )
            conn.execute(
                sa.delete(one_time_codes).where(
                    one_time_codes.c.user_id == user_id, one_time_codes.c.used_at.is_(None)
                )
            )
            conn.execute(sa.delete(resume_tickets).where(resume_tickets.c.user_id == user_id))

    def unused_code_count(self, tenant: str, login: str) -> int:
        tenant, login = _tenant_name(tenant), _login(login)
        with self._read() as conn:
            user_id = _require_user(conn, tenant, login)
            count = conn.execute(
                sa.select(sa.func.count()).where(
                    one_time_codes.c.user_id == user_id, one_time_codes.c.used_at.is_(None)
                )
            ).scalar()
        return int(count or 0)

    # --- policies -------------------------------------------------------------------------------

    def get_tenant_policy(self, tenant: str) -> dict[str, Any] | None:
        tenant = _tenant_name(tenant)
        with self._read() as conn:
            tenant_id = _require_tenant(conn, tenant)
            text = conn.execute(
                sa.select(tenant_settings.c.policy).where(tenant_settings.c.tenant_id == tenant_id)
            ).scalar()
        return None if text is None else _load_policy(text)

    def set_tenant_policy(
        self, tenant: str, policy: dict[str, Any] | None, *, now: float | None = None
    ) -> dict[str, Any] | None:
        """Store (or with None, remove) the tenant's policy; returns it in its normal form."""
        tenant = _tenant_name(tenant)
        text = None if policy is None else _dump_policy(policy)
        with self._write() as conn:
            tenant_id = _require_tenant(conn, tenant)
            _upsert_tenant_settings(
                conn, tenant_id, time.time() if now is None else now, policy=text
            )
        return None if text is None else _load_policy(text)

    def get_host_policy(self, tenant: str, host_id: str) -> dict[str, Any] | None:
        tenant, host_id = _tenant_name(tenant), _host_id(host_id)
        with self._read() as conn:
            _require_host(conn, tenant, host_id)
            text = conn.execute(
                sa.select(host_policies.c.policy).where(host_policies.c.host_id == host_id)
            ).scalar()
        return None if text is None else _load_policy(text)

    def set_host_policy(
        self,
        tenant: str,
        host_id: str,
        policy: dict[str, Any] | None,
        *,
        now: float | None = None,
    ) -> dict[str, Any] | None:
        """Store (or with None, remove) an office PC's own policy; returns its normal form."""
        tenant, host_id = _tenant_name(tenant), _host_id(host_id)
        text = None if policy is None else _dump_policy(policy)
        stamp = time.time() if now is None else now
        with self._write() as conn:
            _require_host(conn, tenant, host_id)
            conn.execute(sa.delete(host_policies).where(host_policies.c.host_id == host_id))
            if text is not None:
                conn.execute(
                    sa.insert(host_policies).values(host_id=host_id, policy=text, updated_at=stamp)
                )
        return None if text is None else _load_policy(text)

    def effective_policy(self, host_id: str) -> dict[str, Any]:
        """What the office PC must obey: tenant policy, stricter with its own, plus the central
        list of home-PC MACs (none registered: no central list). {} for an unknown host."""
        if not isinstance(host_id, str) or not _HOST_ID_PATTERN.fullmatch(host_id):
            return {}
        with self._read() as conn:
            row = conn.execute(
                sa.select(hosts.c.tenant_id, tenant_settings.c.policy, host_policies.c.policy)
                .select_from(hosts)
                .outerjoin(tenant_settings, tenant_settings.c.tenant_id == hosts.c.tenant_id)
                .outerjoin(host_policies, host_policies.c.host_id == hosts.c.host_id)
                .where(hosts.c.host_id == host_id, sa.not_(hosts.c.retired))
            ).first()
            if row is None:
                return {}
            macs = _macs_for_host(conn, host_id)
        combined = Policy()
        for text in (row[1], row[2]):
            if text is not None:
                combined = combined.stricter(Policy.from_dict(json.loads(text)))
        combined = replace(combined, allowed_macs=frozenset(macs) if macs else None)
        return combined.to_dict()

    def central_mac_count(self, host_id: str) -> int:
        with self._read() as conn:
            return len(_macs_for_host(conn, host_id))

    # --- home-PC MAC registrations --------------------------------------------------------------

    def add_mac(
        self,
        tenant: str,
        mac: str,
        *,
        login: str | None = None,
        host_id: str | None = None,
        label: str = "",
        now: float | None = None,
    ) -> MacRegistration:
        """Register a home PC's MAC for one staff user or one office PC of ``tenant``.

        Refused if an office PC's central list would grow past the policy's MAX_MACS.
        """
        tenant = _tenant_name(tenant)
        if (login is None) == (host_id is None):
            raise InvalidInput("a MAC is registered for either a staff login or an office PC")
        try:
            mac = normalise_mac(mac)
        except PolicyError as exc:
            raise InvalidInput(str(exc)) from None
        if not isinstance(label, str) or len(label) > MAX_MAC_LABEL_LEN:
            raise InvalidInput(f"label must be text of at most {MAX_MAC_LABEL_LEN} characters")
        if label and any(unicodedata.category(ch).startswith("C") for ch in label):
            raise InvalidInput("label must not contain control or invisible characters")
        login = None if login is None else _login(login)
        host_id = None if host_id is None else _host_id(host_id)
        created = time.time() if now is None else now
        with self._write() as conn:
            tenant_id = _require_tenant(conn, tenant)
            user_id = None if login is None else _require_user(conn, tenant, login)
            if host_id is not None:
                _require_host(conn, tenant, host_id)
            owner = (
                home_macs.c.user_id == user_id
                if user_id is not None
                else home_macs.c.host_id == host_id
            )
            if conn.execute(sa.select(home_macs.c.id).where(owner, home_macs.c.mac == mac)).first():
                raise AlreadyExists(f"{mac} is already registered for {login or host_id}")
            affected = (
                [host_id]
                if host_id is not None
                else [
                    row.host_id
                    for row in conn.execute(
                        sa.select(grants.c.host_id).where(grants.c.user_id == user_id)
                    )
                ]
            )
            for affected_host in affected:
                _check_central_list(conn, affected_host, {mac})
            new_id = conn.execute(
                sa.insert(home_macs).values(
                    tenant_id=tenant_id,
                    user_id=user_id,
                    host_id=host_id,
                    mac=mac,
                    label=label,
                    created_at=created,
                )
            ).inserted_primary_key
        assert new_id is not None
        return MacRegistration(int(new_id[0]), tenant, mac, login, host_id, label, created)

    def list_macs(self, tenant: str) -> list[MacRegistration]:
        tenant = _tenant_name(tenant)
        with self._read() as conn:
            tenant_id = _require_tenant(conn, tenant)
            rows = conn.execute(
                sa.select(home_macs, users.c.login)
                .outerjoin(users, users.c.id == home_macs.c.user_id)
                .where(home_macs.c.tenant_id == tenant_id)
                .order_by(home_macs.c.id)
            ).all()
        return [
            MacRegistration(
                row.id, tenant, row.mac, row.login, row.host_id, row.label, row.created_at
            )
            for row in rows
        ]

    def delete_mac(self, tenant: str, registration_id: int) -> MacRegistration:
        """Remove a registration of ``tenant``; NotFound for any other tenant's."""
        tenant = _tenant_name(tenant)
        if not isinstance(registration_id, int) or isinstance(registration_id, bool):
            raise InvalidInput("registration ID must be a whole number")
        found = [m for m in self.list_macs(tenant) if m.id == registration_id]
        if not found:
            raise NotFound(f"no home-PC registration {registration_id} in tenant {tenant!r}")
        with self._write() as conn:
            conn.execute(sa.delete(home_macs).where(home_macs.c.id == registration_id))
        return found[0]

    def hosts_affected_by_user(self, tenant: str, login: str) -> list[str]:
        """The office PCs a user is granted (their MACs are part of those PCs' lists)."""
        login = _login(login)
        return [host for user, host in self.list_grants(tenant) if user == login]

    # --- bandwidth limits -----------------------------------------------------------------------

    def get_bandwidth_limits(self, tenant: str) -> tuple[int | None, int | None]:
        """(alert threshold, hard cap) of the tenant in bit/s; None where not set."""
        tenant = _tenant_name(tenant)
        with self._read() as conn:
            tenant_id = _require_tenant(conn, tenant)
            row = conn.execute(
                sa.select(tenant_settings.c.alert_bps, tenant_settings.c.cap_bps).where(
                    tenant_settings.c.tenant_id == tenant_id
                )
            ).first()
        return (None, None) if row is None else (row.alert_bps, row.cap_bps)

    def all_bandwidth_limits(self) -> dict[str, tuple[int | None, int | None]]:
        with self._read() as conn:
            rows = conn.execute(
                sa.select(tenants.c.name, tenant_settings.c.alert_bps, tenant_settings.c.cap_bps)
                .join(tenants, tenants.c.id == tenant_settings.c.tenant_id)
                .where(
                    sa.or_(
                        tenant_settings.c.alert_bps.is_not(None),
                        tenant_settings.c.cap_bps.is_not(None),
                    )
                )
            ).all()
        return {row.name: (row.alert_bps, row.cap_bps) for row in rows}

    def set_bandwidth_limits(
        self,
        tenant: str,
        alert_bps: int | None,
        cap_bps: int | None,
        *,
        now: float | None = None,
    ) -> None:
        tenant = _tenant_name(tenant)
        for value, what, low in (
            (alert_bps, "alert threshold", MIN_TENANT_ALERT_BPS),
            (cap_bps, "hard cap", MIN_TENANT_CAP_BPS),
        ):
            if value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool):
                raise InvalidInput(f"{what} must be a whole number of bit/s")
            if not low <= value <= MAX_TENANT_BPS:
                raise InvalidInput(f"{what} must be from {low} to {MAX_TENANT_BPS} bit/s")
        with self._write() as conn:
            tenant_id = _require_tenant(conn, tenant)
            _upsert_tenant_settings(
                conn,
                tenant_id,
                time.time() if now is None else now,
                alert_bps=alert_bps,
                cap_bps=cap_bps,
            )

    # --- statistics -----------------------------------------------------------------------------

    def last_session_by_host(self, tenant: str) -> dict[str, float]:
        """When each office PC of ``tenant`` last started a session (from the audit log)."""
        tenant = _tenant_name(tenant)
        with self._read() as conn:
            rows = conn.execute(
                sa.select(audit.c.host_id, sa.func.max(audit.c.ts).label("ts"))
                .where(audit.c.tenant == tenant, audit.c.event == "session_start")
                .group_by(audit.c.host_id)
            ).all()
        return {row.host_id: row.ts for row in rows if row.host_id is not None}


# --- queries shared by the methods --------------------------------------------------------------


def _device_fingerprint(value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_DEVICE_FINGERPRINT_LEN:
        raise InvalidInput(
            f"device fingerprint must be 1 to {MAX_DEVICE_FINGERPRINT_LEN} characters"
        )
    return value


def _tenant_id(conn: sa.Connection, tenant: str) -> int | None:
    return conn.execute(sa.select(tenants.c.id).where(tenants.c.name == tenant)).scalar()


def _require_tenant(conn: sa.Connection, tenant: str) -> int:
    tenant_id = _tenant_id(conn, tenant)
    if tenant_id is None:
        raise NotFound(f"no tenant {tenant!r}")
    return tenant_id


def _user_select() -> sa.Select[Any]:
    return sa.select(
        users.c.id,
        users.c.login,
        users.c.totp_secret_sealed,
        users.c.totp_last_step,
        users.c.disabled,
        users.c.created_at,
        users.c.last_login_at,
        tenants.c.name.label("tenant"),
    ).join(tenants, tenants.c.id == users.c.tenant_id)


def _user_row(conn: sa.Connection, tenant: str, login: str) -> sa.Row[Any] | None:
    return conn.execute(
        _user_select().where(tenants.c.name == tenant, users.c.login == login)
    ).first()


def _require_user(conn: sa.Connection, tenant: str, login: str) -> int:
    row = _user_row(conn, tenant, login)
    if row is None:
        _require_tenant(conn, tenant)
        raise NotFound(f"no user {login!r} in tenant {tenant!r}")
    user_id: int = row.id
    return user_id


def _admin_row(conn: sa.Connection, login: str) -> sa.Row[Any] | None:
    return conn.execute(
        sa.select(admins, tenants.c.name.label("tenant"))
        .outerjoin(tenants, tenants.c.id == admins.c.tenant_id)
        .where(admins.c.login == login)
    ).first()


def _admin(row: sa.Row[Any], last_login_at: float | None = None) -> Admin:
    return Admin(
        row.login,
        row.tenant,
        bool(row.disabled),
        row.created_at,
        row.last_login_at if last_login_at is None else last_login_at,
    )


def _upsert_tenant_settings(conn: sa.Connection, tenant_id: int, now: float, **values: Any) -> None:
    exists = conn.execute(
        sa.select(tenant_settings.c.tenant_id).where(tenant_settings.c.tenant_id == tenant_id)
    ).first()
    if exists is None:
        conn.execute(
            sa.insert(tenant_settings).values(tenant_id=tenant_id, updated_at=now, **values)
        )
    else:
        conn.execute(
            sa.update(tenant_settings)
            .where(tenant_settings.c.tenant_id == tenant_id)
            .values(updated_at=now, **values)
        )


def _macs_for_host(conn: sa.Connection, host_id: str) -> set[str]:
    """The office PC's central list: its own registrations and those of users granted it."""
    own = sa.select(home_macs.c.mac).where(home_macs.c.host_id == host_id)
    granted = (
        sa.select(home_macs.c.mac)
        .join(grants, grants.c.user_id == home_macs.c.user_id)
        .where(grants.c.host_id == host_id)
    )
    return {row.mac for row in conn.execute(sa.union(own, granted))}


def _check_central_list(conn: sa.Connection, host_id: str, adding: set[str]) -> None:
    """InvalidInput if ``adding`` would take the host's central list past MAX_MACS."""
    if len(_macs_for_host(conn, host_id) | adding) > MAX_MACS:
        raise InvalidInput(f"office PC {host_id} would have more than {MAX_MACS} home PCs")


def _user(row: sa.Row[Any]) -> User:
    return User(row.tenant, row.login, bool(row.disabled), row.created_at, row.last_login_at)


def _host_select() -> sa.Select[Any]:
    return sa.select(hosts, tenants.c.name.label("tenant")).join(
        tenants, tenants.c.id == hosts.c.tenant_id
    )


def _require_host(conn: sa.Connection, tenant: str, host_id: str) -> None:
    """NotFound unless ``host_id`` is a live host of ``tenant``.

    A host of another tenant gets the same message as no host at all: tenant isolation.
    """
    tenant_id = _require_tenant(conn, tenant)
    found = conn.execute(
        sa.select(hosts.c.host_id).where(
            hosts.c.host_id == host_id,
            hosts.c.tenant_id == tenant_id,
            sa.not_(hosts.c.retired),
        )
    ).first()
    if found is None:
        raise NotFound(f"no host {host_id!r} in tenant {tenant!r}")


def _host(row: sa.Row[Any], last_seen_at: float | None = None) -> Host:
    return Host(
        host_id=row.host_id,
        tenant=row.tenant,
        name=row.name,
        cert_pem=row.cert_pem,
        agent_version=row.agent_version,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at if last_seen_at is None else last_seen_at,
        retired=bool(row.retired),
    )


def _granted(conn: sa.Connection, tenant: str, login: str, host_id: str) -> bool:
    found = conn.execute(
        sa.select(grants.c.host_id)
        .join(users, users.c.id == grants.c.user_id)
        .join(tenants, tenants.c.id == users.c.tenant_id)
        .join(hosts, hosts.c.host_id == grants.c.host_id)
        .where(
            tenants.c.name == tenant,
            users.c.login == login,
            grants.c.host_id == host_id,
            hosts.c.tenant_id == users.c.tenant_id,
            sa.not_(hosts.c.retired),
            sa.not_(users.c.disabled),
        )
    ).first()
    return found is not None


# --- engine set-up ------------------------------------------------------------------------------


def _create_engine(url: str) -> sa.Engine:
    """An engine for ``url``; for SQLite, WAL + FULL sync + foreign keys + explicit BEGINs."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed, pool_pre_ping=True)
    engine = sa.create_engine(
        parsed,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module (its implicit BEGIN comes too
        # late and is never IMMEDIATE); SQLAlchemy's begin event below issues it instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if parsed.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before it returns, so the audit log survives a crash.
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        write = conn.get_execution_options().get("telework_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine

"""Staff users of a tenant and their second factors: a sealed TOTP seed and one-time codes.

:meth:`Staff.verify_otp` is fed by a peer: it never raises for bad input, spends the same work
whether the user exists, and consumes what it accepts at most once (compare-and-set updates).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from core.auth.one_time_codes import (
    DUMMY_CODE_HASH,
    MAX_CODES_PER_ISSUE,
    OtpShape,
    generate_codes,
    hash_code,
    shape_of,
    verify_code,
)
from relay.store.database import Database
from relay.store.errors import AlreadyExists, InvalidInput, NotFound
from relay.store.inputs import (
    canonical_login,
    canonical_names,
    canonical_tenant,
    checked_department,
    checked_full_name,
    page_rows,
)
from relay.store.schema import grants, one_time_codes, resume_tickets, tenants, users
from relay.store.tenants import require_tenant
from relay.store.totp_seeds import TotpSeeds, consume_step, new_login_columns, staff_context


class OtpResult(enum.Enum):
    """Outcome of :meth:`Staff.verify_otp`.

    ``DISABLED`` is only reported to a caller who presented a valid OTP, so it tells a guesser
    nothing; ``UNKNOWN_USER`` and ``WRONG`` should look the same to the viewer.
    """

    TOTP_OK = "totp_ok"
    CODE_OK = "code_ok"
    WRONG = "wrong"
    UNKNOWN_USER = "unknown_user"
    DISABLED = "disabled"


@dataclass(frozen=True)
class User:
    tenant: str
    login: str
    disabled: bool
    created_at: float
    last_login_at: float | None
    full_name: str = ""  # "" when not given
    department: str = ""


class Staff:
    """Staff users: adding, disabling and deleting them, issuing and checking their OTPs."""

    _db: Database
    _seeds: TotpSeeds

    def add_user(
        self,
        tenant: str,
        login: str,
        *,
        full_name: str = "",
        department: str = "",
        now: float | None = None,
    ) -> tuple[User, str]:
        """Create a user; returns it and its TOTP secret (shown once, stored only sealed)."""
        tenant, login = canonical_tenant(tenant), canonical_login(login)
        full_name, department = checked_full_name(full_name), checked_department(department)
        created = self._db.now(now)
        secret, sealed = self._seeds.new_seed(staff_context(tenant, login))
        try:
            with self._db.write() as conn:
                tenant_id = require_tenant(conn, tenant)
                if user_row(conn, tenant, login) is not None:
                    raise AlreadyExists(f"user {login!r} already exists in tenant {tenant!r}")
                conn.execute(
                    sa.insert(users).values(
                        tenant_id=tenant_id,
                        full_name=full_name,
                        department=department,
                        **new_login_columns(login, sealed, created),
                    )
                )
        except sa.exc.IntegrityError:
            raise AlreadyExists(f"user {login!r} already exists in tenant {tenant!r}") from None
        return User(tenant, login, False, created, None, full_name, department), secret

    def get_user(self, tenant: str, login: str) -> User | None:
        names = canonical_names(tenant, login)
        if names is None:
            return None
        with self._db.read() as conn:
            row = user_row(conn, *names)
        return None if row is None else _user(row)

    def list_users(
        self, tenant: str, *, after: str | None = None, limit: int | None = None
    ) -> list[User]:
        """The tenant's staff by login: those after the login ``after`` if given, at most
        ``limit`` of them if given (a page; see MAX_PAGE_ROWS)."""
        tenant, limit = canonical_tenant(tenant), page_rows(limit)
        with self._db.read() as conn:
            query = (
                _user_select()
                .where(users.c.tenant_id == require_tenant(conn, tenant))
                .order_by(users.c.login)
                .limit(limit)
            )
            if after is not None:
                query = query.where(users.c.login > after)
            rows = conn.execute(query).all()
        return [_user(row) for row in rows]

    def set_user_names(
        self,
        tenant: str,
        login: str,
        *,
        full_name: str | None = None,
        department: str | None = None,
    ) -> User:
        """Change the user's full name and/or department (None: left as it is); the user now."""
        tenant, login = canonical_tenant(tenant), canonical_login(login)
        values: dict[str, str] = {}
        if full_name is not None:
            values["full_name"] = checked_full_name(full_name)
        if department is not None:
            values["department"] = checked_department(department)
        with self._db.write() as conn:
            user_id = require_user(conn, tenant, login)
            if values:
                conn.execute(sa.update(users).where(users.c.id == user_id).values(**values))
            row = user_row(conn, tenant, login)
        assert row is not None
        return _user(row)

    def set_user_disabled(self, tenant: str, login: str, disabled: bool) -> None:
        tenant, login = canonical_tenant(tenant), canonical_login(login)
        with self._db.write() as conn:
            user_id = require_user(conn, tenant, login)
            conn.execute(sa.update(users).where(users.c.id == user_id).values(disabled=disabled))
            if disabled:
                _end_resume_tickets(conn, user_id)

    def delete_user(self, tenant: str, login: str) -> None:
        """Delete a user with their codes, grants and resume tickets (the audit log stays)."""
        tenant, login = canonical_tenant(tenant), canonical_login(login)
        with self._db.write() as conn:
            user_id = require_user(conn, tenant, login)
            # Explicit rather than trusting ON DELETE CASCADE, which SQLite only honours when
            # foreign keys are on for that connection.
            for table in (one_time_codes, grants, resume_tickets):
                conn.execute(sa.delete(table).where(table.c.user_id == user_id))
            conn.execute(sa.delete(users).where(users.c.id == user_id))

    def reset_totp(self, tenant: str, login: str) -> str:
        """Give the user a new TOTP secret (returned once); the old one stops working at once."""
        tenant, login = canonical_tenant(tenant), canonical_login(login)
        secret, sealed = self._seeds.new_seed(staff_context(tenant, login))
        with self._db.write() as conn:
            user_id = require_user(conn, tenant, login)
            _replace_seed(conn, user_id, sealed)
            _end_resume_tickets(conn, user_id)  # reconnects without an OTP end with the old one
        return secret

    def revoke_staff_credentials(self, tenant: str, login: str) -> None:
        """Reset a staff user: a new undisclosed TOTP seed, no unused codes, no resume tickets.

        The user cannot log in until an admin issues a new TOTP or codes.
        """
        tenant, login = canonical_tenant(tenant), canonical_login(login)
        _undisclosed, sealed = self._seeds.new_seed(staff_context(tenant, login))
        with self._db.write() as conn:
            user_id = require_user(conn, tenant, login)
            _replace_seed(conn, user_id, sealed)
            conn.execute(sa.delete(one_time_codes).where(*_unused_codes_of(user_id)))
            _end_resume_tickets(conn, user_id)

    def issue_codes(
        self, tenant: str, login: str, count: int, *, now: float | None = None
    ) -> list[str]:
        """Issue ``count`` single-use codes (returned once, stored hashed).

        A new issue replaces the user's unused codes: a lost or leaked sheet is revoked by
        printing a new one, and a login never has more than MAX_CODES_PER_ISSUE hashes to check.
        """
        tenant, login = canonical_tenant(tenant), canonical_login(login)
        if not isinstance(count, int) or not 1 <= count <= MAX_CODES_PER_ISSUE:
            raise InvalidInput(f"code count must be between 1 and {MAX_CODES_PER_ISSUE}")
        created = self._db.now(now)
        with self._db.read() as conn:
            require_user(conn, tenant, login)
        codes = generate_codes(count)
        hashed = [hash_code(code) for code in codes]  # slow: outside any write transaction
        with self._db.write() as conn:
            user_id = require_user(conn, tenant, login)
            conn.execute(sa.delete(one_time_codes).where(*_unused_codes_of(user_id)))
            _end_resume_tickets(conn, user_id)  # a new sheet: reconnects need one of its codes
            conn.execute(
                sa.insert(one_time_codes),
                [
                    {"user_id": user_id, "code_hash": h, "created_at": created, "used_at": None}
                    for h in hashed
                ],
            )
        return codes

    def unused_code_count(self, tenant: str, login: str) -> int:
        tenant, login = canonical_tenant(tenant), canonical_login(login)
        with self._db.read() as conn:
            user_id = require_user(conn, tenant, login)
            count = conn.execute(
                sa.select(sa.func.count()).where(*_unused_codes_of(user_id))
            ).scalar()
        return int(count or 0)

    def verify_otp(self, tenant: str, login: str, otp: str, now: float) -> OtpResult:
        """Check a TOTP or one-time code and consume it (atomically, at most once)."""
        shape = shape_of(otp) if isinstance(otp, str) else OtpShape.INVALID
        names = canonical_names(tenant, login)
        row = None
        live_codes: Sequence[Any] = ()
        with self._db.read() as conn:
            if names is not None:
                row = user_row(conn, *names)
            if row is not None and shape is OtpShape.CODE:
                live_codes = conn.execute(
                    sa.select(one_time_codes.c.id, one_time_codes.c.code_hash)
                    .where(*_unused_codes_of(row.id))
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
            self._seeds.check_without_seed(otp, now)
            return OtpResult.UNKNOWN_USER
        context = staff_context(row.tenant, row.login)
        step = self._seeds.check(row.totp_secret_sealed, context, otp, now, row.totp_last_step)
        if step is None:
            return OtpResult.WRONG
        if row.disabled:
            return OtpResult.DISABLED
        with self._db.write() as conn:
            consumed = consume_step(conn, users, row.id, step, now, sa.not_(users.c.disabled))
        return OtpResult.TOTP_OK if consumed else OtpResult.WRONG

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
        with self._db.write() as conn:
            consumed = conn.execute(
                sa.update(one_time_codes)
                .where(one_time_codes.c.id == matched, one_time_codes.c.used_at.is_(None))
                .values(used_at=now)
            ).rowcount
            if consumed == 1:
                conn.execute(sa.update(users).where(users.c.id == row.id).values(last_login_at=now))
        return OtpResult.CODE_OK if consumed == 1 else OtpResult.WRONG


def user_row(conn: sa.Connection, tenant: str, login: str) -> sa.Row[Any] | None:
    return conn.execute(
        _user_select().where(tenants.c.name == tenant, users.c.login == login)
    ).first()


def require_user(conn: sa.Connection, tenant: str, login: str) -> int:
    """The user's row ID; :class:`NotFound` if there is no such tenant or user."""
    row = user_row(conn, tenant, login)
    if row is None:
        require_tenant(conn, tenant)
        raise NotFound(f"no user {login!r} in tenant {tenant!r}")
    user_id: int = row.id
    return user_id


def _user_select() -> sa.Select[Any]:
    return sa.select(
        users.c.id,
        users.c.login,
        users.c.totp_secret_sealed,
        users.c.totp_last_step,
        users.c.disabled,
        users.c.created_at,
        users.c.last_login_at,
        users.c.full_name,
        users.c.department,
        tenants.c.name.label("tenant"),
    ).join(tenants, tenants.c.id == users.c.tenant_id)


def _user(row: sa.Row[Any]) -> User:
    return User(
        row.tenant,
        row.login,
        bool(row.disabled),
        row.created_at,
        row.last_login_at,
        row.full_name,
        row.department,
    )


def _replace_seed(conn: sa.Connection, user_id: int, sealed: bytes) -> None:
    """Give the user a new sealed seed; every earlier TOTP code stops working."""
    conn.execute(
        sa.update(users)
        .where(users.c.id == user_id)
        .values(totp_secret_sealed=sealed, totp_last_step=None)
    )


def _end_resume_tickets(conn: sa.Connection, user_id: int) -> None:
    """End every resume ticket of the user: their next reconnect needs a one-time password
    (new credentials were issued, or the user was disabled)."""
    conn.execute(sa.delete(resume_tickets).where(resume_tickets.c.user_id == user_id))


def _unused_codes_of(user_id: int) -> tuple[sa.ColumnElement[bool], ...]:
    """Where-clauses selecting the user's one-time codes not yet used."""
    return one_time_codes.c.user_id == user_id, one_time_codes.c.used_at.is_(None)

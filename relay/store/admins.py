"""Administrators of the admin API and console: operators (every tenant) and tenant admins,
each with a password and a TOTP seed."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from core.auth.passwords import DUMMY_HASH, hash_password, verify_password
from relay.store.database import Database
from relay.store.errors import AlreadyExists, InvalidInput
from relay.store.inputs import canonical_login, canonical_tenant
from relay.store.schema import admins, tenants
from relay.store.tenants import require_tenant
from relay.store.totp_seeds import TotpSeeds, admin_context, consume_step, new_login_columns

# Random bytes of an admin's initial password: 120 bits, 20 URL-safe characters to type once.
ADMIN_PASSWORD_BYTES = 15


@dataclass(frozen=True)
class Admin:
    login: str
    tenant: str | None  # None: an operator, who administers every tenant
    disabled: bool
    created_at: float
    last_login_at: float | None


class Admins:
    """Adding, finding and authenticating administrators."""

    _db: Database
    _seeds: TotpSeeds

    def add_admin(
        self, login: str, tenant: str | None, *, now: float | None = None
    ) -> tuple[Admin, str, str]:
        """Create an operator (``tenant`` None) or a tenant admin.

        Returns the admin, their initial password and their TOTP secret, each shown once.
        """
        login = canonical_login(login)
        tenant = None if tenant is None else canonical_tenant(tenant)
        created = self._db.now(now)
        password = secrets.token_urlsafe(ADMIN_PASSWORD_BYTES)
        password_hash = hash_password(password)  # slow: outside any write transaction
        secret, sealed = self._seeds.new_seed(admin_context(login))
        try:
            with self._db.write() as conn:
                tenant_id = None if tenant is None else require_tenant(conn, tenant)
                if _admin_row(conn, login) is not None:
                    raise AlreadyExists(f"admin {login!r} already exists")
                conn.execute(
                    sa.insert(admins).values(
                        tenant_id=tenant_id,
                        password_hash=password_hash,
                        **new_login_columns(login, sealed, created),
                    )
                )
        except sa.exc.IntegrityError:
            raise AlreadyExists(f"admin {login!r} already exists") from None
        return Admin(login, tenant, False, created, None), password, secret

    def get_admin(self, login: str) -> Admin | None:
        try:
            login = canonical_login(login)
        except InvalidInput:
            return None
        with self._db.read() as conn:
            row = _admin_row(conn, login)
        return None if row is None else _admin(row)

    def authenticate_admin(self, login: str, password: str, otp: str, now: float) -> Admin | None:
        """The admin if password and TOTP are right (the TOTP step is consumed); else None.

        Spends the same work on an unknown login (a dummy hash and seed), so the answer time
        does not tell which logins exist. A disabled admin never authenticates.
        """
        row, password_ok = self._admin_with_password(login, password)
        if row is None:
            self._seeds.check_without_seed(otp, now)
            return None
        context = admin_context(row.login)
        step = self._seeds.check(row.totp_secret_sealed, context, otp, now, row.totp_last_step)
        if not password_ok or step is None or row.disabled:
            return None
        with self._db.write() as conn:
            consumed = consume_step(conn, admins, row.id, step, now)
        return _admin(row, last_login_at=now) if consumed else None

    def change_admin_password(self, login: str, current: str, new: str) -> bool:
        """Give the admin the password ``new`` if ``current`` is theirs now; False (nothing
        changed) if it is not, or there is no such admin, or they are disabled. The same work
        either way; ``new`` is hashed as it is (its rules are the caller's)."""
        row, current_ok = self._admin_with_password(login, current)
        new_hash = hash_password(new)  # slow: outside any write transaction
        if row is None or not current_ok or row.disabled:
            return False
        with self._db.write() as conn:
            # Compare-and-set: two changes at once cannot both think they won.
            changed = conn.execute(
                sa.update(admins)
                .where(admins.c.id == row.id, admins.c.password_hash == row.password_hash)
                .values(password_hash=new_hash)
            ).rowcount
        return changed == 1

    def _admin_with_password(self, login: str, password: object) -> tuple[Any, bool]:
        """The admin's row (None if there is no such login) and whether ``password`` is
        theirs: a password is hashed either way (a dummy one for an unknown login), so the
        answer time does not tell which logins exist."""
        try:
            login = canonical_login(login)
        except InvalidInput:
            login = ""
        row = None
        if login:
            with self._db.read() as conn:
                row = _admin_row(conn, login)
        matches = verify_password(
            password if isinstance(password, str) else "",
            DUMMY_HASH if row is None else row.password_hash,
        )
        return row, matches


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
